"""Load and validate a procedure file against its bench, reporting every problem at once.

    procedure: pressure_decay
    version: 1
    bench: benches/vacuum_chamber_mockup.yaml   # relative to this file; --bench overrides
    sample_period: 1 s
    setup:   [ {set_valves: {valves: {vent: closed}}} ]
    main:    [ {fill: {volume: article, to: 2 bar, tolerance: 50 mbar, timeout: 5 min}}, ... ]
    cleanup: [ {vent: {volume: article}} ]

Nothing here contacts an instrument: validation happens before any valve moves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from drivers.models import MODELS
from rig.analysis.detectability import minimum_detectable_leak
from rig.bench import BenchSpec, load_bench
from rig.errors import InputError
from rig.located_yaml import Doc, LocatedError, LocatedProblems, attempt, load
from rig.procedure import bounds
from rig.procedure.plan import Plan
from rig.procedure.steps import STEP_KINDS
from rig.units import T_TWENTY_C_K, parse_leak_rate

VERSION = 1
SECTIONS = ("setup", "main", "cleanup")
TOP_KEYS = {"procedure", "version", "bench", "description", "sample_period", *SECTIONS}
QUANTITY_KINDS = {"pressure", "time", "volume", "temperature"}
T = TypeVar("T")
P = tuple[Any, ...]


class ProcedureInvalid(InputError):  # noqa: N818 - reads as what it is: "procedure invalid"
    """A procedure (or its bench) with one or more located problems."""

    def __init__(self, problems: list[LocatedError], bench: BenchSpec | None = None) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.bench = bench  # the bench, when it loaded: its own parts can still be checked


@dataclass(frozen=True)
class Step:
    """One validated step: its kind and its fields in SI units (names of bench items kept as text)."""

    kind: str
    fields: dict[str, Any]
    location: str
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Procedure:
    """A validated procedure, bound to its bench."""

    name: str
    source: str
    bench: BenchSpec
    sample_period_s: float
    setup: tuple[Step, ...]
    main: tuple[Step, ...]
    cleanup: tuple[Step, ...]
    description: str = ""


@dataclass
class _Checker:
    doc: Doc
    bench: BenchSpec | None
    problems: list[LocatedError] = field(default_factory=list)
    sample_period_s: float = 1.0
    # The pressure each volume was last brought to by a fill or pump-down, in procedure order:
    # the level at which a later measurement reads its gauge.
    levels_pa: dict[str, float] = field(default_factory=dict)
    # The measure_decay names met so far: what a compare step may refer to.
    measured: list[str] = field(default_factory=list)
    # Steps refused for exceeding a bound (rig.procedure.bounds): once a step is, the repeats
    # around it and the procedure as a whole are not refused again for the same excess.
    over_bounds: int = 0

    @property
    def response_s(self) -> float:
        """The bench's valve response time (its default while the bench is unknown)."""
        return self.bench.valve_response_s if self.bench is not None else 10.0

    def attempt(self, check: Callable[[], T]) -> T | None:
        """Run ``check``; a located problem is recorded and None returned, so checking goes on."""
        return attempt(self.problems, check)

    def bounded(self, path: P, steps: tuple[Step, ...], what: str) -> None:
        """Refuse ``steps`` (at ``path``) if they exceed a bound that nothing inside them exceeds."""
        why = bounds.excess(steps, self.response_s, self.sample_period_s, what)
        if why is not None:
            self.problems.append(self.doc.error(path, why))
            self.over_bounds += 1


def load_procedure(path: str | Path, bench_path: str | Path | None = None) -> Procedure:
    """Read and validate a procedure; every problem found raises one :class:`ProcedureInvalid`."""
    try:
        doc = load(path)
    except LocatedProblems as exc:
        raise ProcedureInvalid(exc.problems) from None
    except LocatedError as exc:
        # A file that does not even parse is one more located problem, printed like the others
        # (editors jump to `file:line:col:` only at the start of a line).
        raise ProcedureInvalid([exc]) from None
    checker = _Checker(doc, None)
    checker.attempt(
        lambda: doc.mapping((), allowed=TOP_KEYS, required=frozenset({"procedure", "version", "main"}))
    )
    # An absent version is already a missing key; "expected a whole number" would say it twice.
    version = checker.attempt(lambda: doc.integer(("version",))) if doc.has(("version",)) else None
    if version is not None and version != VERSION:
        checker.problems.append(
            doc.error(("version",), f"version {version} is not known (this rig reads {VERSION})")
        )
    bench = checker.attempt(lambda: _bench(doc, Path(path), bench_path))
    checker.bench = bench
    period = checker.attempt(lambda: _sample_period(doc))
    checker.sample_period_s = period or 1.0
    sections = {name: _steps(checker, (name,)) for name in SECTIONS}
    if not checker.over_bounds:
        # Within bounds step by step, the sections may still exceed them together: say so at
        # the longest section.
        plans = {name: Plan(steps, checker.response_s) for name, steps in sections.items()}
        longest = max(SECTIONS, key=lambda name: (plans[name].max_s, plans[name].count))
        everything = (*sections["setup"], *sections["main"], *sections["cleanup"])
        checker.bounded((longest,), everything, "the procedure")
    if checker.problems:
        raise ProcedureInvalid(checker.problems, bench)
    assert bench is not None and period is not None
    return Procedure(
        name=doc.text(("procedure",)),
        source=str(path),
        bench=bench,
        sample_period_s=period,
        setup=sections["setup"],
        main=sections["main"],
        cleanup=sections["cleanup"],
        description=doc.text(("description",), " ").strip(),
    )


def _sample_period(doc: Doc) -> float:
    period = doc.quantity(("sample_period",), "time", "1 s", positive=True)
    why = bounds.sample_period_problem(period, doc.text(("sample_period",), "1 s"))
    if why is not None:
        raise doc.error(("sample_period",), why)
    return period


def _bench(doc: Doc, path: Path, override: str | Path | None) -> BenchSpec:
    if override is not None:
        return load_bench(override)
    if doc.get(("bench",)) is None:
        raise doc.error((), "no bench: name one with `bench:` or give --bench")
    name = doc.text(("bench",))
    candidates = [path.parent / name, path.parent.parent / name]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise doc.error(("bench",), f"bench file {name!r} not found next to the procedure")
    return load_bench(found)


def _steps(checker: _Checker, path: P) -> tuple[Step, ...]:
    doc = checker.doc
    items = checker.attempt(lambda: doc.sequence(path))
    if items is None:
        return ()
    steps = []
    for i in range(len(items)):
        step = checker.attempt(lambda i=i: _step(checker, (*path, i)))  # type: ignore[misc]
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _step(checker: _Checker, path: P) -> Step:
    doc = checker.doc
    body = doc.get(path)
    if not isinstance(body, dict) or len(body) != 1:
        raise doc.error(path, "a step is one mapping `{kind: {fields}}`, e.g. `{wait: {duration: 10 s}}`")
    kind = next(iter(body))
    if kind not in STEP_KINDS:
        raise doc.key_error((*path, kind), f"unknown step {kind!r} (steps: {', '.join(sorted(STEP_KINDS))})")
    spec = STEP_KINDS[kind]
    fpath = (*path, kind)
    allowed = {name for name in spec}
    required = frozenset(name for name, kind_ in spec.items() if not kind_.endswith("?"))
    checker.attempt(lambda: doc.mapping(fpath, allowed=allowed, required=required))
    values: dict[str, Any] = {}
    nested: tuple[Step, ...] = ()
    refused_inside = checker.over_bounds
    for name, ftype in spec.items():
        if doc.get((*fpath, name)) is None:
            continue
        base = ftype.rstrip("?")
        if base == "steps":
            nested = _steps(checker, (*fpath, name))
            continue
        value = checker.attempt(lambda n=name, b=base: _value(checker, (*fpath, n), b))  # type: ignore[misc]
        if value is not None:
            values[name] = value
    step = Step(kind, values, str(doc.where(path)), nested)
    if checker.bench is not None:
        for name, why in bounds.target_problems(kind, values, checker.bench):
            checker.problems.append(doc.error((*fpath, name), why))
    if checker.over_bounds == refused_inside and (kind != "repeat" or "times" in values):
        where = "times" if kind == "repeat" else bounds.DURATION_FIELD.get(kind)
        what = "this repeat" if kind == "repeat" else f"this {kind}"
        checker.bounded((*fpath, where) if where else path, (step,), what)
    if kind == "fill" and {"volume", "to"} <= values.keys():
        checker.levels_pa[values["volume"]] = values["to"]
    if kind == "pump_down" and {"volume", "below"} <= values.keys():
        checker.levels_pa[values["volume"]] = values["below"]
    if kind == "measure_decay" and {"limit", "channel", "volume", "duration"} <= values.keys():
        checker.attempt(lambda: _resolvable(checker, (*fpath, "limit"), values))
    if kind == "measure_decay" and "name" in values:
        checker.measured.append(values["name"])
    if kind == "compare":
        for role in ("before", "after"):
            if role in values and values[role] not in checker.measured:
                known = ", ".join(checker.measured) or "none yet"
                checker.problems.append(
                    doc.error(
                        (*fpath, role),
                        f"{values[role]!r} is not a measurement taken before this step (measured: {known})",
                    )
                )
    if kind == "reference_leak_check" and {"valve", "certified_rate"} <= values.keys():
        checker.attempt(lambda: _certified(checker, (*fpath, "certified_rate"), values))
    if kind == "prompt" and "action" in values:
        checker.attempt(lambda: _actable(checker, (*fpath, "action"), values["action"]))
    return step


# How far a procedure's certified rate may differ from the bench's certificate (rounding only).
CERTIFIED_RATE_AGREEMENT = 5e-3


def _certified(checker: _Checker, path: P, values: dict[str, Any]) -> None:
    """A reference-leak check must compare with what the leak standard's certificate says."""
    bench = checker.bench
    leak = bench.reference_leaks.get(values["valve"]) if bench is not None else None
    if leak is None:
        return
    stated = values["certified_rate"]
    if abs(stated - leak.rate_pa_m3_s) > CERTIFIED_RATE_AGREEMENT * leak.rate_pa_m3_s:
        raise checker.doc.error(
            path,
            f"certified_rate {stated:.4g} Pa·m³/s disagrees with certificate {leak.certificate} of the leak "
            f"behind {values['valve']!r} ({leak.rate_pa_m3_s:.4g} Pa·m³/s)",
        )


def _actable(checker: _Checker, path: P, action: str) -> None:
    """A simulated bench must be able to act out what the operator is asked to do."""
    bench = checker.bench
    if bench is None or bench.doc is None or not bench.simulated:
        return  # a real bench: the action is the operator's, recorded as said
    known = list(bench.doc.mapping(("physics", "actions")))
    if action not in known:
        raise checker.doc.error(
            path,
            f"the simulated bench {bench.name!r} cannot act out {action!r} "
            f"(its physics.actions: {', '.join(known) or 'none'})",
        )


def _resolvable(checker: _Checker, path: P, values: dict[str, Any]) -> None:
    """A limit below the bench's minimum detectable leak for this duration cannot be tested."""
    bench = checker.bench
    if bench is None:
        return
    level = checker.levels_pa.get(values["volume"], ATMOSPHERE_PA)
    resolution, noise = sensor_floor(bench, values["channel"], level)
    shown = display_step_pa(bench.instruments[bench.channels[values["channel"]].instrument].model, level)
    resolution = max(resolution, shown)
    if resolution == 0.0 and noise == 0.0:
        return  # the bench says nothing about this gauge: nothing to hold the limit against
    floor = minimum_detectable_leak(
        bench.volumes[values["volume"]].size_m3,
        values["duration"],
        resolution_pa=resolution,
        noise_pa=noise,
        sample_interval_s=checker.sample_period_s,
    ).minimum_detectable_pa_m3_s
    if values["limit"] < floor:
        raise checker.doc.error(
            path,
            f"limit {values['limit']:.3g} Pa·m³/s is below what {values['channel']!r} can resolve in "
            f"{values['duration']:g} s at {level:.4g} Pa on this bench (steps of {resolution:.3g} Pa, "
            f"noise {noise:.3g} Pa: minimum detectable leak {floor:.3g} Pa·m³/s): "
            "test longer or use a finer gauge",
        )


ATMOSPHERE_PA = 101325.0


def display_step_pa(model: str, pressure_pa: float) -> float:
    """The step of the last printed digit at ``pressure_pa`` (0 for models that print an analog value).

    A controller prints its model's ``display_digits`` significant digits: its readings move in
    steps of one last digit.
    """
    known = MODELS.get(model)
    digits = None if known is None else known.display_digits
    if digits is None or not pressure_pa > 0.0:
        return 0.0
    return float(10.0 ** (math.floor(math.log10(pressure_pa)) - (digits - 1)))


def sensor_floor(bench: BenchSpec, channel: str, pressure_pa: float = 0.0) -> tuple[float, float]:
    """(resolution, noise) in Pa of a pressure channel reading ``pressure_pa``: from the bench, or
    its simulated sensor (whose noise may have a part proportional to the reading)."""
    spec = bench.channels[channel]
    resolution, noise = spec.resolution_pa, spec.noise_pa
    doc = bench.doc
    if doc is not None and bench.simulated and (resolution is None or noise is None):
        sensor = ("physics", "sensors", channel)
        # The defaults are rig.sim.bench_physics's: what the simulated gauge does when not told.
        if resolution is None:
            resolution = _sensor_spread(doc, (*sensor, "resolution"), "0 Pa")
        if noise is None:
            noise = math.hypot(
                _sensor_spread(doc, (*sensor, "noise"), "0.2 Pa"),
                sensor_noise_relative(bench, channel) * pressure_pa,
            )
    return resolution or 0.0, noise or 0.0


def sensor_noise_relative(bench: BenchSpec, channel: str) -> float:
    """The part of a simulated gauge's noise proportional to its reading (a Pirani's), else 0."""
    path = ("physics", "sensors", channel, "noise_relative")
    if bench.doc is None or not bench.simulated or bench.doc.get(path) is None:
        return 0.0
    return bench.doc.number(path)


def _sensor_spread(doc: Doc, path: P, default: str) -> float:
    """A simulated sensor's resolution or noise, refused here (located) if negative.

    The bench's own channel values are checked when it loads; the physics part is read only on
    demand, and a negative value would otherwise fail later without a place.
    """
    return doc.quantity(path, "pressure", default, nonnegative=True)


def sensor_accuracy(bench: BenchSpec, channel: str) -> float:
    """The relative accuracy (a fraction of the reading) of ``channel``'s gauge.

    The channel's ``accuracy:`` if the bench declares one; else, on a simulated bench, the
    accuracy its simulated pressure sensor has (``physics.sensors.<channel>.accuracy``, or the
    model's ``simulated_accuracy_rel``, which the simulator gives it); else the model's
    ``accuracy_rel`` (:mod:`drivers.models`).
    """
    spec = bench.channels[channel]
    if spec.accuracy is not None:
        return spec.accuracy
    model = MODELS[bench.instruments[spec.instrument].model]
    doc = bench.doc
    # Only pressure channels on a volume are simulated as gauges with a relative accuracy (a
    # thermocouple's accuracy is in kelvin).
    if doc is None or not bench.simulated or spec.measures != "pressure" or spec.volume is None:
        return model.accuracy_rel
    path = ("physics", "sensors", channel, "accuracy")
    accuracy = doc.number(path, model.simulated_accuracy_rel)
    if not 0.0 < accuracy < 1.0:
        raise doc.error(path, f"accuracy is a fraction of the reading between 0 and 1, got {accuracy:g}")
    return accuracy


def _value(checker: _Checker, path: P, ftype: str) -> Any:
    doc, bench = checker.doc, checker.bench
    if ftype in QUANTITY_KINDS:
        # A step's durations, pressures (targets, tolerances: absolute pressures or widths),
        # volumes and absolute temperatures are all meaningless at or below zero.
        return doc.quantity(path, ftype, positive=True)
    if ftype == "leak_rate":
        text = doc.text(path)
        try:
            rate = parse_leak_rate(text, "leak rate", pv_temperature_k=T_TWENTY_C_K)
        except InputError as exc:
            raise doc.error(path, str(exc).split(": ", 1)[-1]) from None
        rate = doc.tame(path, rate, text, "leak rate")
        if not rate > 0.0:
            raise doc.error(path, f"a leak-rate limit must be positive, got {text!r}")
        return rate
    if ftype == "text":
        return doc.text(path)
    if ftype == "fraction":
        fraction = doc.number(path)
        if not 0.0 < fraction <= 1.0:
            raise doc.error(path, f"expected a fraction in (0, 1], e.g. 0.1 for 10 %, got {fraction:g}")
        return fraction
    if ftype == "count":
        count = doc.integer(path)
        if count < 1:
            raise doc.error(path, f"expected at least 1, got {count}")
        return count
    if ftype == "answer":
        # YAML 1.1 reads a bare `yes`/`no` as a boolean: take it as the answer it spells.
        raw = doc.get(path)
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        return doc.choice(path, {"yes", "no"})
    if ftype.startswith("choice:"):
        return doc.choice(path, set(ftype.removeprefix("choice:").split("|")))
    if ftype == "valve_list":
        return _valve_list(doc, path, bench)
    if ftype == "valve_states":
        return _valve_states(doc, path, bench)
    if bench is None:
        return doc.text(path)  # the bench failed to load; its own error says why
    if ftype == "volume_ref":
        return _name(doc, path, bench.volumes, "volume", bench)
    if ftype == "channel_ref":
        return _name(doc, path, bench.channels, "channel", bench)
    if ftype == "valve_ref":
        return _name(doc, path, bench.valves, "valve", bench)
    raise AssertionError(f"field type {ftype!r} has no check")  # pragma: no cover


# Without a bench (it failed to load, and its own error says why) the valve names cannot be
# checked, but the shape of the field can: a list of names, or names mapped to open/closed.
def _valve_list(doc: Doc, path: P, bench: BenchSpec | None) -> list[str]:
    items = doc.sequence(path)
    if not items:
        raise doc.error(path, "expected a list of valves")
    if bench is None:
        return [doc.text((*path, i)) for i in range(len(items))]
    return [_name(doc, (*path, i), bench.valves, "valve", bench) for i in range(len(items))]


def _valve_states(doc: Doc, path: P, bench: BenchSpec | None) -> dict[str, bool]:
    states = {}
    for valve, vpath in doc.items(path):
        if bench is not None and valve not in bench.valves:
            raise doc.key_error(
                vpath, f"unknown valve {valve!r} (bench {bench.name!r} has: {', '.join(bench.valves)})"
            )
        states[valve] = doc.choice(vpath, {"open", "closed"}) == "open"
    if not states:
        raise doc.error(path, "name at least one valve")
    return states


def _name(doc: Doc, path: P, names: dict[str, Any], what: str, bench: BenchSpec) -> str:
    value = doc.text(path)
    if value not in names:
        known = ", ".join(names) or "none"
        raise doc.error(path, f"unknown {what} {value!r} (bench {bench.name!r} has: {known})")
    return value
