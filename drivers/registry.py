"""Which driver speaks to which model: a bench file names models, this opens them.

The model table (:mod:`drivers.models`) names each model's driver class; it is imported here
only when a model of it is opened, so one broken driver cannot stop the others.
"""

from __future__ import annotations

from typing import Any

from drivers.base import Instrument
from drivers.models import MODELS, import_named


def driver_class(model: str) -> type[Instrument]:
    """The driver class for ``model`` (KeyError names the known models)."""
    if model not in MODELS:
        raise KeyError(f"no driver for model {model!r} (known: {', '.join(sorted(MODELS))})")
    cls: type[Instrument] = import_named(MODELS[model].driver)
    return cls


def open_instrument(model: str, resource: str, *, address: int | None = None, **options: Any) -> Instrument:
    """Open ``resource`` with the driver for ``model`` (``address`` for RS-485 style protocols)."""
    cls = driver_class(model)
    if address is not None:
        options["address"] = address
    instrument: Instrument = cls.open(resource, **options)  # type: ignore[attr-defined]
    return instrument
