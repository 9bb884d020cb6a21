"""Which driver speaks to which model: a bench file names models, this opens them.

The model table (:mod:`drivers.models`) names each model's driver class; it is imported here
only when a model of it is opened, so one broken driver cannot stop the others.
"""

from __future__ import annotations

from typing import Any

from drivers.base import Instrument
from drivers.errors import DriverError
from drivers.models import MODELS, import_named


class DriverUnavailableError(DriverError):
    """A model's driver class cannot be imported (a plugin's module missing or broken)."""


def driver_class(model: str) -> type[Instrument]:
    """The driver class for ``model`` (KeyError names the known models).

    A driver that cannot be imported raises :class:`DriverUnavailableError` saying why in one
    line: like an instrument that does not answer, it stops the run before it starts.
    """
    if model not in MODELS:
        raise KeyError(f"no driver for model {model!r} (known: {', '.join(sorted(MODELS))})")
    path = MODELS[model].driver
    try:
        cls: type[Instrument] = import_named(path)
    except (ImportError, AttributeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DriverUnavailableError(f"the {model} driver {path!r} cannot be imported: {reason}") from exc
    if not isinstance(cls, type):
        raise DriverUnavailableError(f"the {model} driver {path!r} is not a class")
    return cls


def open_instrument(model: str, resource: str, *, address: int | None = None, **options: Any) -> Instrument:
    """Open ``resource`` with the driver for ``model`` (``address`` for RS-485 style protocols)."""
    cls = driver_class(model)
    if address is not None:
        options["address"] = address
    instrument: Instrument = cls.open(resource, **options)  # type: ignore[attr-defined]
    return instrument
