"""A measurement as the engine takes it and the record keeps it: value, uncertainty, limit, outcome.

``results.json`` holds one JSON object per measurement under ``measurements`` (and ``rig run
--json`` and the ``measurement`` events repeat it). :meth:`Measurement.to_json` writes exactly
that object and :meth:`Measurement.from_json` reads it back. A field that is None was not
measured (or an older record did not keep it) and is left out of the object, except where a
judged measurement (one with a limit, or a refusal) states it as null: ``additional_time_s``
(no further test time is suggested) and ``refusal`` (the verdict stands). The decays' objects
read::

    value, unit, stderr, stderr_type_b, ucl95, lcl95, n, channel, window_s, line, uncertainty,
    outcome, limit, additional_time_s, refusal, e2930, volume_m3, rank, written_unit,
    <test conditions>

and a reference-leak check's (:class:`ReferenceLeak`)::

    value, unit, stderr, outcome, certified, tolerance_relative, deviation_relative, background,
    n, channel, window_s, certificate, additional_time_s, refusal, written_unit, <test conditions>

``written_unit`` is the leak-rate unit the procedure wrote the limit in (``lb/day``), for
showing the numbers as the procedure states them; the numbers themselves stay in ``unit``.
The test conditions (:class:`TestConditions`: ``test_pressure_start_pa``,
``test_pressure_end_pa``, ``gas``, ``fill_step``, ``fill_s``, ``stabilisation_s``, ``test_s``,
``temperature_channel``, ``temperature_min_k``, ``temperature_max_k``) are derived from the
run's own files when its results are written (:mod:`rig.record.conditions`).

Keys this version does not know (a plugin step's own, a newer controller's) are kept in
:attr:`Measurement.extra` and written back after the others. A before/after
:class:`Comparison` is a finding, not a measurement, but is read and written the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rig.outcome import Outcome, outcome_of
from rig.record.recorded import flag, integer, mapping, number, pair, text

# The unit of every leak rate the engine measures (a pV throughput, as pint spells it).
UNIT = "Pa*m**3/s"
# The coverage factor of the expanded uncertainty a result is reported with (GUM: k = 2, about 95 %).
COVERAGE_K = 2.0


@dataclass(frozen=True)
class FitLine:
    """The fitted line in pressure coordinates: ``intercept_pa + slope_pa_s·(t − t0_s)``.

    A rise is fitted as the decay of −p, but its line is recorded as the pressures rose.
    """

    t0_s: float
    intercept_pa: float
    slope_pa_s: float
    compensated_to_k: float | None  # the line is of p·T_ref/T at this T_ref; None: of p itself

    def to_json(self) -> dict[str, Any]:
        """The ``line`` object of a measurement."""
        return {
            "t0_s": self.t0_s,
            "intercept_pa": self.intercept_pa,
            "slope_pa_s": self.slope_pa_s,
            "compensated_to_k": self.compensated_to_k,
        }

    @classmethod
    def from_json(cls, value: object) -> FitLine | None:
        """The line recorded as ``value``; None unless its three numbers are there."""
        line = mapping(value)
        t0, intercept, slope = (number(line.get(k)) for k in ("t0_s", "intercept_pa", "slope_pa_s"))
        if t0 is None or intercept is None or slope is None:
            return None
        return cls(t0, intercept, slope, number(line.get("compensated_to_k")))


@dataclass(frozen=True)
class UncertaintyBudget:
    """Standard uncertainties (k = 1, in the measurement's unit): each term, and all of them combined.

    The engine's terms are ``fit``, ``resolution``, ``volume``, ``gauge_calibration``,
    ``temperature`` and ``zero_drift`` (:mod:`rig.analysis.budget`; a reference-leak check adds
    ``reference_leak``, its standard's certificate); a record may name others. A term that is not
    a number in the record reads as None.
    """

    terms: Mapping[str, float | None]
    combined: float | None

    def to_json(self) -> dict[str, Any]:
        """The ``uncertainty`` object: the terms, then ``combined``."""
        out: dict[str, Any] = dict(self.terms)
        if self.combined is not None:
            out["combined"] = self.combined
        return out

    @classmethod
    def from_json(cls, value: object) -> UncertaintyBudget | None:
        """The budget recorded as ``value``; None when there is none (``{}`` is a budget of no terms)."""
        if not isinstance(value, Mapping):
            return None
        terms = {str(k): number(u) for k, u in value.items() if k != "combined"}
        return cls(terms, number(value.get("combined")))


@dataclass(frozen=True)
class E2930:
    """ASTM E2930's resolution rule: a test must resolve a tenth of its limit to pass (Pa·m³/s)."""

    test_resolution_pa_m3_s: float | None  # one gauge step over the test, V·q/D
    required_pa_m3_s: float | None  # a tenth of the limit
    met: bool | None

    def to_json(self) -> dict[str, Any]:
        """The ``e2930`` object."""
        return {
            "test_resolution": self.test_resolution_pa_m3_s,
            "required": self.required_pa_m3_s,
            "met": self.met,
        }

    @classmethod
    def from_json(cls, value: object) -> E2930 | None:
        """The check recorded as ``value``; None when there is none."""
        check = mapping(value)
        if not check:
            return None
        resolution, required = number(check.get("test_resolution")), number(check.get("required"))
        return cls(resolution, required, flag(check.get("met")))


@dataclass(frozen=True)
class ReferenceLeak:
    """What a reference-leak check adds: the standard's certified rate, the tolerance, the deviation, the
    background subtracted (rates in the measurement's unit)."""

    certified_pa_m3_s: float | None
    tolerance_relative: float | None
    deviation_relative: float | None  # (measured − certified) / certified
    background_pa_m3_s: float | None
    certificate: str | None = None  # the leak standard's certificate, when the bench names it

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> ReferenceLeak | None:
        """The reference-leak fields of ``entry``; None when it has none (it is no reference-leak check)."""
        keys = ("certified", "tolerance_relative", "deviation_relative", "background", "certificate")
        if not any(k in entry for k in keys):
            return None
        return cls(
            number(entry.get("certified")),
            number(entry.get("tolerance_relative")),
            number(entry.get("deviation_relative")),
            number(entry.get("background")),
            text(entry.get("certificate")),
        )


@dataclass(frozen=True)
class TestConditions:
    """Under what conditions a measurement was taken, as every commercial tester prints them.

    Pressures are the measured (raw, uncompensated) pressure of the tested volume at the first
    and last sample of the window; the fill is the last ``fill`` (or ``pump_down``) before the
    window, stabilisation the time from its end to the window's start, the test the window.
    The temperature span is the thermometer's lowest and highest reading over the window.
    """

    __test__ = False  # a record's class, not a pytest test class

    test_pressure_start_pa: float | None = None
    test_pressure_end_pa: float | None = None
    gas: str | None = None
    fill_step: str | None = None  # "fill" or "pump_down": the step that set the test pressure
    fill_s: float | None = None
    stabilisation_s: float | None = None
    test_s: float | None = None
    temperature_channel: str | None = None
    temperature_min_k: float | None = None
    temperature_max_k: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The conditions as the measurement object's keys (those not recorded left out)."""
        return {k: v for k in CONDITION_KEYS if (v := getattr(self, k)) is not None}

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> TestConditions | None:
        """The conditions recorded in ``entry``; None when it records none (an older record)."""
        if not any(k in entry for k in CONDITION_KEYS):
            return None
        n = {k: number(entry.get(k)) for k in CONDITION_KEYS}
        return cls(
            test_pressure_start_pa=n["test_pressure_start_pa"],
            test_pressure_end_pa=n["test_pressure_end_pa"],
            gas=text(entry.get("gas")),
            fill_step=text(entry.get("fill_step")),
            fill_s=n["fill_s"],
            stabilisation_s=n["stabilisation_s"],
            test_s=n["test_s"],
            temperature_channel=text(entry.get("temperature_channel")),
            temperature_min_k=n["temperature_min_k"],
            temperature_max_k=n["temperature_max_k"],
        )


CONDITION_KEYS = (
    "test_pressure_start_pa", "test_pressure_end_pa", "gas", "fill_step", "fill_s", "stabilisation_s",
    "test_s", "temperature_channel", "temperature_min_k", "temperature_max_k",
)  # fmt: skip

# The keys of a measurement object, in the order each kind writes them (see the module's docstring).
_DECAY_ORDER = (
    "value", "unit", "stderr", "stderr_type_b", "ucl95", "lcl95", "n", "channel", "window_s", "line",
    "uncertainty", "outcome", "limit", "additional_time_s", "refusal", "e2930", "certified",
    "tolerance_relative", "deviation_relative", "background", "certificate", "volume_m3", "rank",
    "written_unit", *CONDITION_KEYS,
)  # fmt: skip
_REFERENCE_ORDER = (
    "value", "unit", "stderr", "stderr_type_b", "ucl95", "lcl95", "outcome", "certified",
    "tolerance_relative", "deviation_relative", "background", "n", "channel", "window_s", "line",
    "uncertainty", "certificate", "limit", "additional_time_s", "refusal", "e2930", "volume_m3", "rank",
    "written_unit", *CONDITION_KEYS,
)  # fmt: skip
KNOWN_KEYS = frozenset(_DECAY_ORDER)
# Stated even when None once a measurement is judged (a limit, or a refusal): null says something.
_STATED_WHEN_JUDGED = ("additional_time_s", "refusal")


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One measurement: its value, uncertainty and limit, the outcome, and the evidence behind it.

    Rates are in ``unit`` (Pa·m³/s, :data:`UNIT`, for everything the engine measures; a plugin's
    measurement may state another unit), times in seconds. None is "not measured" (or, read
    back, "not recorded"). ``refusal`` says why a verdict the bounds would give was withheld
    (the outcome is then INCONCLUSIVE); a refusal is evidence, never decoration.
    """

    name: str | None = None  # the name it is recorded under (not part of its JSON object)
    value_pa_m3_s: float | None = None
    unit: str | None = UNIT
    outcome: Outcome | None = None
    stderr_pa_m3_s: float | None = None  # combined standard uncertainty (k = 1)
    stderr_type_b_pa_m3_s: float | None = None  # the Type-B part of it
    ucl95_pa_m3_s: float | None = None  # one-sided 95 % upper bound
    lcl95_pa_m3_s: float | None = None  # one-sided 95 % lower bound
    n: int | None = None  # samples fitted
    channel: str | None = None
    window_s: tuple[float, float] | None = None  # the fit window, clock seconds
    line: FitLine | None = None
    uncertainty: UncertaintyBudget | None = None
    limit_pa_m3_s: float | None = None
    additional_time_s: float | None = None  # for INCONCLUSIVE: further test time that would decide it
    refusal: str | None = None
    e2930: E2930 | None = None
    reference: ReferenceLeak | None = None  # a reference-leak check's comparison with its certificate
    volume_m3: float | None = None  # the volume fitted, when it is not one of the bench's (a segment)
    rank: int | None = None  # a segment's place among the segments watched, worst first
    written_unit: str | None = None  # the leak-rate unit the procedure wrote its limit in
    conditions: TestConditions | None = None  # what it was tested at (derived when results are written)
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    def __post_init__(self) -> None:
        shadowed = KNOWN_KEYS & set(self.extra)
        if shadowed:
            raise ValueError(f"extra fields {sorted(shadowed)} would shadow a measurement's own")

    @property
    def expanded_uncertainty_pa_m3_s(self) -> float | None:
        """The expanded uncertainty U = k·u, k = 2 (about 95 %), in ``unit``; None when u is not recorded."""
        return None if self.stderr_pa_m3_s is None else COVERAGE_K * self.stderr_pa_m3_s

    def withdrawn(self, refusal: str) -> Measurement:
        """This measurement with its verdict withdrawn: INCONCLUSIVE, for the reason ``refusal``.

        No further test time is suggested: what the refusal names must be fixed, not waited out.
        """
        return replace(self, outcome=Outcome.INCONCLUSIVE, additional_time_s=None, refusal=refusal)

    def to_json(self) -> dict[str, Any]:
        """The measurement's object in ``results.json`` (see the module's docstring for its shape)."""
        reference = self.reference
        values: dict[str, Any] = {
            "value": self.value_pa_m3_s,
            "unit": self.unit,
            "stderr": self.stderr_pa_m3_s,
            "stderr_type_b": self.stderr_type_b_pa_m3_s,
            "ucl95": self.ucl95_pa_m3_s,
            "lcl95": self.lcl95_pa_m3_s,
            "n": self.n,
            "channel": self.channel,
            "window_s": None if self.window_s is None else list(self.window_s),
            "line": None if self.line is None else self.line.to_json(),
            "uncertainty": None if self.uncertainty is None else self.uncertainty.to_json(),
            "outcome": None if self.outcome is None else self.outcome.value,
            "limit": self.limit_pa_m3_s,
            "additional_time_s": self.additional_time_s,
            "refusal": self.refusal,
            "e2930": None if self.e2930 is None else self.e2930.to_json(),
            "certified": None if reference is None else reference.certified_pa_m3_s,
            "tolerance_relative": None if reference is None else reference.tolerance_relative,
            "deviation_relative": None if reference is None else reference.deviation_relative,
            "background": None if reference is None else reference.background_pa_m3_s,
            "certificate": None if reference is None else reference.certificate,
            "volume_m3": self.volume_m3,
            "rank": self.rank,
            "written_unit": self.written_unit,
            **dict.fromkeys(CONDITION_KEYS),
            **({} if self.conditions is None else self.conditions.to_json()),
        }
        judged = self.limit_pa_m3_s is not None or self.refusal is not None
        order = _DECAY_ORDER if reference is None else _REFERENCE_ORDER
        out = {k: values[k] for k in order if values[k] is not None or (judged and k in _STATED_WHEN_JUDGED)}
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, name: str | None, entry: object) -> Measurement:
        """The measurement recorded as ``entry`` (under ``name``), as far as it has the right types.

        Missing keys, and values of the wrong type, read as None; ``entry`` need not even be a
        mapping (a damaged record's): it then reads as a measurement of which nothing is recorded.
        """
        data = mapping(entry)
        n, rank = integer(data.get("n")), integer(data.get("rank"))
        return cls(
            name=name,
            value_pa_m3_s=number(data.get("value")),
            unit=text(data.get("unit")),
            outcome=outcome_of(data.get("outcome")),
            stderr_pa_m3_s=number(data.get("stderr")),
            stderr_type_b_pa_m3_s=number(data.get("stderr_type_b")),
            ucl95_pa_m3_s=number(data.get("ucl95")),
            lcl95_pa_m3_s=number(data.get("lcl95")),
            n=n,
            channel=text(data.get("channel")),
            window_s=pair(data.get("window_s")),
            line=FitLine.from_json(data.get("line")),
            uncertainty=UncertaintyBudget.from_json(data.get("uncertainty")),
            limit_pa_m3_s=number(data.get("limit")),
            additional_time_s=number(data.get("additional_time_s")),
            refusal=text(data.get("refusal")),
            e2930=E2930.from_json(data.get("e2930")),
            reference=ReferenceLeak.from_json(data),
            volume_m3=number(data.get("volume_m3")),
            rank=rank,
            written_unit=text(data.get("written_unit")),
            conditions=TestConditions.from_json(data),
            extra={k: v for k, v in data.items() if k not in KNOWN_KEYS},
        )


@dataclass(frozen=True)
class Comparison:
    """Two measurements of one procedure (a repair's before and after) as a reduction factor before/after.

    ``before`` and ``after`` name the measurements (older records held their rates instead);
    an unbounded factor or interval end (a repaired leak indistinguishable from none) is infinity.
    """

    name: str | None
    before: str | float | None
    after: str | float | None
    reduction_factor: float | None
    interval95: tuple[float, float] | None  # 95 % interval of the factor
    unit: str | None = "1"

    def to_json(self) -> dict[str, Any]:
        """The comparison's object under ``comparisons`` in ``results.json``."""
        return {
            "name": self.name,
            "before": self.before,
            "after": self.after,
            "unit": self.unit,
            "reduction_factor": self.reduction_factor,
            "interval95": None if self.interval95 is None else list(self.interval95),
        }

    @classmethod
    def from_json(cls, value: object) -> Comparison:
        """The comparison recorded as ``value``, as far as it has the right types."""
        data = mapping(value)

        def side(x: object) -> str | float | None:
            return text(x) if isinstance(x, str) else number(x)

        return cls(
            name=text(data.get("name")),
            before=side(data.get("before")),
            after=side(data.get("after")),
            reduction_factor=number(data.get("reduction_factor")),
            interval95=pair(data.get("interval95")),
            unit=text(data.get("unit")),
        )
