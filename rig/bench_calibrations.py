"""A bench's calibrations: each gauge's and thermometer's certificate, and its reference leaks.

Read from a bench file's ``calibrations:`` and ``reference_leaks:`` parts by
:func:`rig.bench.load_bench`; dates are checked (due not before done) and uncertainties are
fractions or percentages, every mistake reported as ``file:line:col: message``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rig.located_yaml import Doc

if TYPE_CHECKING:
    from rig.bench import ChannelSpec, ValveSpec


@dataclass(frozen=True)
class Calibration:
    """A gauge's or thermometer's calibration: its certificate, when it was done and is due.

    ``uncertainty`` is a standard uncertainty (k = 1): relative (a fraction of the reading)
    for a pressure channel, in K for a temperature channel. A pressure gauge's certificate may
    state its zero's stability (a drift-rate bound, Pa/s, and a temperature coefficient, Pa/K):
    what it states wins over the channel's and the model's figures.
    """

    name: str
    certificate: str
    date: dt.date
    due: dt.date
    uncertainty: float
    zero_stability_pa_s: float | None = None
    zero_temperature_coefficient_pa_k: float | None = None

    def status(self, today: dt.date) -> str:
        """``current`` or ``expired`` on ``today``."""
        return "current" if today <= self.due else "expired"


@dataclass(frozen=True)
class ReferenceLeak:
    """A calibrated leak behind one of the bench's valves, as its certificate states it."""

    valve: str
    certificate: str
    rate_pa_m3_s: float
    uncertainty_rel: float  # standard (k = 1), a fraction of the rate
    gas: str
    temperature_k: float
    date: dt.date
    due: dt.date

    def status(self, today: dt.date) -> str:
        """``current`` or ``expired`` on ``today``."""
        return "current" if today <= self.due else "expired"


def parse_date(doc: Doc, path: tuple[Any, ...]) -> dt.date:
    """The date at ``path`` (a YAML date or ISO text such as 2026-05-04)."""
    value = doc.get(path)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise doc.error(path, f"expected a date such as 2026-05-04, got {value!r}")


def _fraction(doc: Doc, path: tuple[Any, ...]) -> float:
    """A relative uncertainty: a fraction (0.0025) or a percentage ("0.25 %")."""
    value = doc.get(path)
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            fraction = float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise doc.error(path, f"expected a percentage such as '0.25 %', got {value!r}") from None
    else:
        fraction = doc.number(path)
    if not 0.0 < fraction < 1.0:
        raise doc.error(path, f"a relative uncertainty lies between 0 and 100 %, got {value!r}")
    return fraction


def _dates(doc: Doc, p: tuple[Any, ...]) -> tuple[dt.date, dt.date]:
    done, due = parse_date(doc, (*p, "date")), parse_date(doc, (*p, "due"))
    if due < done:
        raise doc.error((*p, "due"), f"due {due} is before the calibration date {done}")
    return done, due


def parse_calibration(
    doc: Doc, name: str, p: tuple[Any, ...], channels: dict[str, ChannelSpec]
) -> Calibration:
    """Channel ``name``'s calibration at ``p`` (a pressure's uncertainty relative, a temperature's in K)."""
    zero_keys = {"zero_stability", "zero_temperature_coefficient"}
    doc.mapping(
        p,
        allowed={"certificate", "date", "due", "uncertainty"} | zero_keys,
        required=frozenset({"certificate", "date", "due", "uncertainty"}),
    )
    if name not in channels:
        raise doc.key_error(p, f"calibration of {name!r}, which is not a channel of this bench")
    measures = channels[name].measures
    if measures == "temperature":
        uncertainty = doc.quantity((*p, "uncertainty"), "temperature", positive=True)
    else:
        uncertainty = _fraction(doc, (*p, "uncertainty"))
    done, due = _dates(doc, p)
    drift = tempco = None
    if measures == "pressure":
        drift = _bound(doc, (*p, "zero_stability"), "pressure drift")
        tempco = _bound(doc, (*p, "zero_temperature_coefficient"), "pressure per temperature")
    elif any(doc.has((*p, key)) for key in zero_keys):
        key = next(k for k in sorted(zero_keys) if doc.has((*p, k)))
        raise doc.error((*p, key), f"a zero's stability is a pressure gauge's; {name!r} measures {measures}")
    return Calibration(name, doc.text((*p, "certificate")), done, due, uncertainty, drift, tempco)


def _bound(doc: Doc, path: tuple[Any, ...], kind: str) -> float | None:
    """A bound (a ``kind`` quantity, not negative) at ``path``; None if absent."""
    if not doc.has(path):
        return None
    return doc.quantity(path, kind, nonnegative=True)


def parse_reference_leak(
    doc: Doc, name: str, p: tuple[Any, ...], valves: dict[str, ValveSpec]
) -> ReferenceLeak:
    """The reference leak behind valve ``name``, as its certificate at ``p`` states it."""
    keys = {"certificate", "rate", "uncertainty", "gas", "temperature", "date", "due"}
    doc.mapping(p, allowed=keys, required=frozenset(keys))
    if name not in valves:
        raise doc.key_error(p, f"a reference leak behind {name!r}, which is not a valve of this bench")
    rate = doc.quantity((*p, "rate"), "leak rate", positive=True)
    done, due = _dates(doc, p)
    return ReferenceLeak(
        name,
        doc.text((*p, "certificate")),
        rate,
        _fraction(doc, (*p, "uncertainty")),
        doc.text((*p, "gas")),
        doc.quantity((*p, "temperature"), "temperature", positive=True),
        done,
        due,
    )
