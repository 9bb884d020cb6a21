"""Which driver speaks to which model: a bench file names models, this opens them."""

from __future__ import annotations

import importlib
from typing import Any

from drivers.base import Instrument

# model → (module, class, kind); imported on demand so one broken driver cannot stop the others.
DRIVERS: dict[str, tuple[str, str, str]] = {
    "TPG361": ("drivers.tpg36x", "Tpg36x", "gauge"),
    "TPG362": ("drivers.tpg36x", "Tpg36x", "gauge"),
    "TPG366": ("drivers.tpg36x", "Tpg36x", "gauge"),
    "MKS937B": ("drivers.mks937b", "Mks937b", "gauge"),
    "DAQ970A": ("drivers.daq970a", "Daq970a", "daq"),
    "34972A": ("drivers.daq970a", "Daq970a", "daq"),
    "34970A": ("drivers.daq970a", "Daq970a", "daq"),
}


def driver_class(model: str) -> type[Instrument]:
    """The driver class for ``model`` (KeyError names the known models)."""
    if model not in DRIVERS:
        raise KeyError(f"no driver for model {model!r} (known: {', '.join(sorted(DRIVERS))})")
    module, name, _ = DRIVERS[model]
    cls: type[Instrument] = getattr(importlib.import_module(module), name)
    return cls


def open_instrument(model: str, resource: str, *, address: int | None = None, **options: Any) -> Instrument:
    """Open ``resource`` with the driver for ``model`` (``address`` for RS-485 style protocols)."""
    cls = driver_class(model)
    if address is not None:
        options["address"] = address
    instrument: Instrument = cls.open(resource, **options)  # type: ignore[attr-defined]
    return instrument
