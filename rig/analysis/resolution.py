"""The resolution of a recorded pressure trace: given, or read off the recording itself.

A fit's standard error is the scatter of the samples about the line. A trace that never
leaves one printed digit has none, whatever leak hides below that step, so the gauge's
resolution enters as the Type-B term the engine uses (:mod:`rig.analysis.budget`:
V·step/(D·√3)). When nobody gives it, the recording shows it in two ways:

* **printed digits**: a reading cannot be finer than its last printed digit. Each cell's
  text gives the place of its leading and last digits (``101325.0``: 10⁻¹;
  ``1.0132e+05``: 5 significant digits, a step of 10¹; ``1``: 10⁰). Writers often drop
  trailing zeros (``99.9`` for ``99.90``) and a gauge that prints significant digits
  steps more coarsely in a higher decade, so the rule counts the *most* significant
  digits any cell shows and takes the step of the last of them at the *largest*
  magnitude of the trace: the coarsest step across the trace, as the engine takes a
  display's step at the window's highest pressure. A cell of zero counts its last
  place only; a cell not in plain decimal form (``1_000``) is ignored.
* **value steps**: readings of a gauge with step q differ by multiples of q. The steps
  between the sorted distinct values, as exact counts of the finest printed place, have
  a greatest common divisor: the coarsest grid every reading sits on (the smallest
  step is one of its multiples). It can overstate q (levels whose gaps share a factor),
  never understate it; a step of 0.5 printed as ``0.0, 0.5, 1.0`` shows 0.5 where the
  digits show only 0.1. Where the counts are beyond a double's exact integers (digits
  written past a double's precision, e.g. ``0.30000000000000004`` for 3 × 0.1) or there
  are no digits, the grid is the smallest non-zero gap between sorted distinct values,
  or a tenth of it at the finest, of which every gap is a multiple to within a double's
  rounding; values that sit on no such grid (unquantised noise) show no value step.

The resolution is the larger of the two (on a tie, "printed digits"): the printed digit
is a floor and the grid a ceiling of a quantised gauge's step, and the larger cannot be
an optimistic guess. A trace with one distinct value and no readable digits has no
resolution ("none"); with no scatter either it has no uncertainty, and :func:`decide`
will not call it PASS.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import optimize, special

from rig.analysis.budget import Budget, TypeB, uncertainty_budget, with_budget
from rig.analysis.decay import DecayFit
from rig.analysis.linefit import FloatArray
from rig.analysis.verdict import POWER, Decision, Verdict, decide
from rig.units import T_TWENTY_C_K

Source = Literal["given", "printed digits", "value steps", "none"]

_DECIMAL = re.compile(r"[+-]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]{1,6}))?")
_MIN_PLACE, _MAX_PLACE = -307, 307  # 10**place must be a normal double to be a step
_EXACT_POWER = 22  # 10**k is exact in a double up to here, so scaling by it rounds only once
_EXACT_COUNT = 2.0**52  # counts beyond this cannot be recovered exactly from a double
_SHAPE = str.maketrans("23456789", "11111111")
_MAX_SHAPES = 4096
_ROUNDING = 1e-12  # relative: far above a double's rounding, far below any gauge's step
_GRID_MARGIN = 1e3
_GRID_DIVISORS = 10


class PrintedDigits:
    """What the printed text of a column's readings tells of their last digit.

    Feed each cell's text to :meth:`add`; :attr:`step` is then the printed step of the
    column, in the column's own unit (see the module's rule), or None.
    """

    def __init__(self) -> None:
        self._finest: int | None = None  # the finest last-digit place of any cell
        self._top_lead: int | None = None  # the leading-digit place of the largest non-zero cell
        self._most_digits = 0  # the most significant digits any non-zero cell shows
        self.unreadable = 0  # cells not in plain decimal form
        # Cells of one shape (nonzero digits alike, zeros, point and exponent where they are)
        # have one last place and one count of digits: a recording of millions of readings has
        # a few hundred shapes, read once each rather than a regular expression a cell.
        self._shapes: dict[str, int] = {}

    def add(self, text: str) -> None:
        """Take one cell's text (a finite reading)."""
        cell = text.strip()
        if "e" in cell or "E" in cell:  # the exponent's digits are its value: kept as written
            cut = max(cell.find("e"), cell.find("E"))
            shape = cell[:cut].translate(_SHAPE) + cell[cut:]
        else:
            shape = cell.translate(_SHAPE)
        shapes = self._shapes
        shapes[shape] = shapes.get(shape, 0) + 1
        if len(shapes) > _MAX_SHAPES:  # digits past a double's: every cell its own shape
            self._fold()

    def _fold(self) -> None:
        for shape, count in self._shapes.items():
            self._take(shape, count)
        self._shapes.clear()

    def _take(self, cell: str, count: int) -> None:
        m = _DECIMAL.fullmatch(cell)
        if m is None or not (m["int"] or m["frac"]):
            self.unreadable += count
            return
        whole, frac = m["int"], m["frac"] or ""
        last = (int(m["exp"]) if m["exp"] else 0) - len(frac)
        if self._finest is None or last < self._finest:
            self._finest = last
        significant = (whole + frac).lstrip("0")
        if significant:
            lead = last + len(significant) - 1
            if self._top_lead is None or lead > self._top_lead:
                self._top_lead = lead
            self._most_digits = max(self._most_digits, len(significant))

    @property
    def finest_place(self) -> int | None:
        """The finest last-digit place of any readable cell (10**place in the column's unit)."""
        self._fold()
        return self._finest

    @property
    def step(self) -> float | None:
        """The printed step, in the column's unit; None when no cell was readable."""
        self._fold()
        if self._finest is None:
            return None
        if self._top_lead is None:  # every reading is a zero: only its last place tells
            return _power_of_ten(self._finest)
        return _power_of_ten(self._top_lead - self._most_digits + 1)


def printed_step(texts: list[str]) -> float | None:
    """The printed step of the readings ``texts`` (the module's rule), or None."""
    digits = PrintedDigits()
    for text in texts:
        digits.add(text)
    return digits.step


def _power_of_ten(place: int) -> float | None:
    if not _MIN_PLACE <= place <= _MAX_PLACE:
        return None  # beyond any double that is a reading; 0 or inf would be no step at all
    return float(10.0**place)


def value_step(values: FloatArray, finest_place: int | None = None) -> float | None:
    """The grid step of ``values`` (same unit), or None when there is none to see.

    With ``finest_place`` (the finest printed place, :attr:`PrintedDigits.finest_place`)
    the values are exact counts of 10**place and the step is their steps' greatest common
    divisor; otherwise, or when the counts are too large for a double to hold exactly,
    the smallest non-zero gap between the sorted distinct values (or a tenth of it at the
    finest) that every gap is a multiple of, within rounding. None with fewer than two
    distinct values or when they sit on no such grid.
    """
    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    if distinct.size < 2:
        return None
    grid = _grid_step(distinct, finest_place)
    if grid is not None:
        return grid
    return _approximate_grid(distinct)


def _approximate_grid(distinct: FloatArray) -> float | None:
    with np.errstate(over="ignore"):
        gaps = np.diff(distinct)
    if not np.all(np.isfinite(gaps)):
        return None  # values a double's whole range apart sit on no grid a gauge prints
    smallest = float(np.min(gaps))
    # Writing k·q as a double and back errs by a few units in the last place of the largest
    # value; a grid must stand well above that to be told from rounding.
    rounding = _ROUNDING * float(np.max(np.abs(distinct)))
    for divisor in range(1, _GRID_DIVISORS + 1):
        step = smallest / divisor
        if not step > _GRID_MARGIN * rounding:
            return None
        multiples = gaps / step
        if float(np.max(np.abs(multiples - np.rint(multiples)))) * step <= rounding:
            return step
    return None


def _grid_step(distinct: FloatArray, place: int | None) -> float | None:
    if place is None or not -_EXACT_POWER <= place <= _EXACT_POWER:
        return None
    scaled = distinct * 10.0**-place if place <= 0 else distinct / 10.0**place
    if not float(np.max(np.abs(scaled))) < _EXACT_COUNT:
        return None
    counts = np.rint(scaled).astype(np.int64)
    steps = np.diff(np.unique(counts))
    if steps.size == 0:
        return None
    return float(np.gcd.reduce(steps)) * float(10.0**place)


@dataclass(frozen=True)
class ReadingSteps:
    """What a recording's pressure column shows of its gauge's step, Pa (None: nothing)."""

    printed_pa: float | None = None
    values_pa: float | None = None


@dataclass(frozen=True)
class Resolution:
    """One step of the pressure reading, Pa (0 when unknown), and where it was learnt."""

    step_pa: float
    source: Source


def infer_resolution(steps: ReadingSteps, given_pa: float | None = None) -> Resolution:
    """The resolution to enter in the budget: ``given_pa`` if any, else the larger of the
    printed and value steps (the module's rule), else none."""
    if given_pa is not None:
        return Resolution(given_pa, "given")
    printed, values = _usable(steps.printed_pa), _usable(steps.values_pa)
    if values is not None and (printed is None or values > printed):
        return Resolution(values, "value steps")
    if printed is not None:
        return Resolution(printed, "printed digits")
    return Resolution(0.0, "none")


def _usable(step_pa: float | None) -> float | None:
    """A step that can enter a budget: positive and finite (a unit conversion may overflow)."""
    return step_pa if step_pa is not None and 0.0 < step_pa < math.inf else None


def with_resolution(
    fit: DecayFit,
    resolution: Resolution,
    pressure_pa: FloatArray,
    temperature_k: FloatArray | None = None,
) -> tuple[DecayFit, Budget]:
    """``fit`` with the resolution's Type-B term folded into its uncertainty, and the budget.

    The same budget as the engine's (p/T for the temperature terms at the trace's means),
    with every other Type-B input unknown to a bare recording left at zero.
    """
    finite = pressure_pa[np.isfinite(pressure_pa)]
    mean_p = float(np.mean(finite)) if finite.size else 0.0
    mean_t = T_TWENTY_C_K
    if temperature_k is not None and np.isfinite(temperature_k).any():
        mean_t = float(np.nanmean(temperature_k))
    type_b = TypeB(resolution_pa=resolution.step_pa)
    budget = uncertainty_budget(fit, type_b, mean_p, mean_t, compensated=temperature_k is not None)
    return with_budget(fit, budget), budget


def judge(fit: DecayFit, budget: Budget, limit_pa_m3_s: float, confidence: float = 0.95) -> Decision:
    """:func:`decide`, then the engine's ASTM E2930 rule: a PASS the test cannot resolve
    (its resolution above a tenth of the limit) is INCONCLUSIVE, with the test time that
    would resolve it (the resolution falls as 1/D).

    An INCONCLUSIVE's further test time follows the budget: the fit's term falls as
    D^(-3/2), the resolution's as 1/D, any other stays.
    """
    decision = decide(fit, limit_pa_m3_s, confidence)
    if decision.verdict is Verdict.INCONCLUSIVE and decision.refusal is None:
        decision = replace(
            decision, additional_time_s=additional_time(fit, budget, limit_pa_m3_s, confidence)
        )
    return unresolved(decision, fit, budget.e2930(limit_pa_m3_s))


def unresolved(decision: Decision, fit: DecayFit, e2930: Mapping[str, float | bool]) -> Decision:
    """``decision``, unless it is a PASS the test cannot resolve (ASTM E2930, ``e2930`` as
    :meth:`rig.analysis.budget.Budget.e2930` states it): that is INCONCLUSIVE, with the test
    time that would resolve it (the resolution falls as 1/D) and why."""
    if decision.verdict is not Verdict.PASS or e2930["met"]:
        return decision
    resolves, required = float(e2930["test_resolution"]), float(e2930["required"])
    drift = float(e2930.get("zero_drift", 0.0))
    if drift >= required:
        # The zero's drift is a rate, not a step: a longer test does not shrink it.
        return replace(
            decision,
            verdict=Verdict.INCONCLUSIVE,
            additional_time_s=None,
            refusal=(
                f"not certified: the gauge's zero may drift by as much as a leak of {drift:.3g} Pa·m³/s, "
                f"more than a tenth of the limit ({required:.3g} Pa·m³/s, ASTM E2930), however long the "
                "test; use a gauge with a steadier zero"
            ),
        )
    # The steps' part falls as 1/D until, with the drift's, it meets the requirement.
    steps, room = math.sqrt(max(resolves**2 - drift**2, 0.0)), math.sqrt(required**2 - drift**2)
    return replace(
        decision,
        verdict=Verdict.INCONCLUSIVE,
        additional_time_s=fit.line.duration * (steps / room - 1.0),
        refusal=(
            f"not certified: the test resolves {resolves:.3g} Pa·m³/s, more than a tenth of the limit "
            f"({required:.3g} Pa·m³/s, ASTM E2930); test longer or use a finer gauge"
        ),
    )


def additional_time(
    fit: DecayFit, budget: Budget, limit_pa_m3_s: float, confidence: float, power: float = POWER
) -> float | None:
    """Further test time after which the bound clears the limit with ``power``, if the
    estimate is right (as :mod:`rig.analysis.verdict`); None when no length of test will."""
    gap = abs(fit.leak_rate_pa_m3_s - limit_pa_m3_s)
    duration = fit.line.duration
    if gap == 0.0 or not duration > 0.0:
        return None
    needed = gap / (fit.line.t_quantile(confidence) + float(special.ndtri(power)))
    fit_u, resolution_u = budget.terms.get("fit", 0.0), budget.terms.get("resolution", 0.0)
    lasting = math.hypot(*(u for k, u in budget.terms.items() if k not in ("fit", "resolution")))
    if not lasting < needed:
        return None  # terms that a longer test does not shrink already exceed the room
    room = needed * math.sqrt(1.0 - (lasting / needed) ** 2)
    a, b = fit_u / room, resolution_u / room
    if not (math.isfinite(a) and math.isfinite(b)):
        return None

    def excess(x: float) -> float:  # the standard uncertainty after x·D, over the room, less 1
        return math.hypot(a * x**-1.5, b / x) - 1.0

    if excess(1.0) <= 0.0:
        return 0.0
    # Each term alone is under 1/√2 of the room there, so the bracket holds the root.
    high = max(2.0 * a ** (2.0 / 3.0), 2.0 * b, 1.0)
    return duration * (float(optimize.brentq(excess, 1.0, high, xtol=1e-12, rtol=1e-12)) - 1.0)
