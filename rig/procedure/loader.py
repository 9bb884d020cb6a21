"""Load and validate a procedure file against its bench, reporting every problem at once.

Each step is built as its kind's class (:mod:`rig.steps`): its declared fields are read
generically (a value of the wrong type is a problem located at it), then the kind's own
``check`` runs, then the bounds every step is held to (:mod:`rig.procedure.bounds`).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from drivers.plugins import broken_note
from rig.bench import BenchSpec, load_bench
from rig.bench_gauges import (
    ATMOSPHERE_PA,
    display_step_pa,
    sensor_accuracy,
    sensor_floor,
    sensor_noise_relative,
)
from rig.errors import InputError
from rig.located_yaml import Doc, LocatedError, LocatedProblems, attempt, load, loads
from rig.procedure import bounds
from rig.procedure.plan import Plan
from rig.steps import Level, Step, step_kinds, step_plugins
from rig.steps.fields import COUNT, Declared

__all__ = [
    # The gauges' figures were first read here; rig.bench_gauges is their home now.
    "ATMOSPHERE_PA",
    "Procedure",
    "ProcedureInvalid",
    "display_step_pa",
    "load_procedure",
    "load_procedure_text",
    "sensor_accuracy",
    "sensor_floor",
    "sensor_noise_relative",
]

VERSION = 1
SECTIONS = ("setup", "main", "cleanup")
TOP_KEYS = {"procedure", "version", "bench", "description", "sample_period", "gas", *SECTIONS}
REQUIRED_KEYS = frozenset({"procedure", "version", "main"})
T = TypeVar("T")
P = tuple[Any, ...]


class ProcedureInvalid(InputError):  # noqa: N818 - reads as what it is: "procedure invalid"
    """A procedure (or its bench) with one or more located problems."""

    def __init__(self, problems: list[LocatedError], bench: BenchSpec | None = None) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.bench = bench  # the bench, when it loaded: its own parts can still be checked


@dataclass(frozen=True)
class Procedure:
    """A validated procedure, bound to its bench: its sections are typed steps (:class:`rig.steps.Step`)."""

    name: str
    source: str
    bench: BenchSpec
    sample_period_s: float
    setup: tuple[Step, ...]
    main: tuple[Step, ...]
    cleanup: tuple[Step, ...]
    description: str = ""
    # The test gas the fills fill with (the record's and certificate's ``gas``; air unless it says).
    gas: str = "air"
    # The document as it was read (a file, or the text rig.api wrote): what a run keeps as its
    # procedure.yaml.
    text: str = field(default="", repr=False, compare=False)


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

    def steps(self, path: P) -> tuple[Step, ...]:
        """The steps listed at ``path`` (a section, or a repeat's), each validated."""
        return _steps(self, path)

    def bounded(self, path: P, steps: tuple[Step, ...], what: str) -> None:
        """Refuse ``steps`` (at ``path``) if they exceed a bound that nothing inside them exceeds."""
        why = bounds.excess(steps, self.response_s, self.sample_period_s, what)
        if why is not None:
            self.problems.append(self.doc.error(path, why))
            self.over_bounds += 1


def load_procedure(path: str | Path, bench_path: str | Path | None = None) -> Procedure:
    """Read and validate a procedure; every problem found raises one :class:`ProcedureInvalid`."""
    doc = _parsed(lambda: load(path))
    # Read again for the record, as validated (load() has checked it is UTF-8 text of a sane size).
    return _validated(doc, Path(path), bench_path, Path(path).read_text(encoding="utf-8"))


def load_procedure_text(text: str, source: str, bench: BenchSpec | str | Path | None = None) -> Procedure:
    """Validate the procedure document ``text`` as :func:`load_procedure` does a file.

    ``source`` names it in problems and locations (``source:line:col``); ``bench`` (a loaded
    bench, or a file) stands in for the document's ``bench:``, which is otherwise taken
    relative to the directory of ``source``.
    """
    return _validated(_parsed(lambda: loads(text, source)), Path(source), bench, text)


def _parsed(parse: Callable[[], Doc]) -> Doc:
    try:
        return parse()
    except LocatedProblems as exc:
        raise ProcedureInvalid(exc.problems) from None
    except LocatedError as exc:
        # A file that does not even parse is one more located problem, printed like the others
        # (editors jump to `file:line:col:` only at the start of a line).
        raise ProcedureInvalid([exc]) from None


def _validated(doc: Doc, path: Path, bench_path: BenchSpec | str | Path | None, text: str) -> Procedure:
    checker = _Checker(doc, None)
    checker.attempt(lambda: doc.mapping((), allowed=TOP_KEYS, required=REQUIRED_KEYS))
    # An absent version is already a missing key; "expected a whole number" would say it twice.
    version = checker.attempt(lambda: doc.integer(("version",))) if doc.has(("version",)) else None
    if version is not None and version != VERSION:
        checker.problems.append(
            doc.error(("version",), f"version {version} is not known (this rig reads {VERSION})")
        )
    bench = checker.attempt(lambda: _bench(doc, path, bench_path))
    checker.bench = bench
    if doc.has(("gas",)):  # the test gas, as the record and certificate state it (default: air)
        checker.attempt(lambda: doc.text(("gas",)))
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
        gas=doc.text(("gas",)) if doc.has(("gas",)) else "air",
        text=text,
    )


def _sample_period(doc: Doc) -> float:
    period = doc.quantity(("sample_period",), "time", "1 s", positive=True)
    why = bounds.sample_period_problem(period, doc.text(("sample_period",), "1 s"))
    if why is not None:
        raise doc.error(("sample_period",), why)
    return period


def _bench(doc: Doc, path: Path, override: BenchSpec | str | Path | None) -> BenchSpec:
    if isinstance(override, BenchSpec):
        return override
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
    kinds = step_kinds()
    if kind not in kinds:
        known = f"unknown step {kind!r} (steps: {', '.join(sorted(kinds))}){broken_note(step_plugins())}"
        raise doc.key_error((*path, kind), known)
    cls = kinds[kind]
    fpath = (*path, kind)
    declared = cls.declared()
    allowed = {d.name for d in declared}
    required = frozenset(d.name for d in declared if not d.optional)
    checker.attempt(lambda: doc.mapping(fpath, allowed=allowed, required=required))
    values: dict[str, Any] = {}
    refused_inside = checker.over_bounds
    for d in declared:
        if doc.get((*fpath, d.name)) is None:
            continue
        value = checker.attempt(lambda d=d: d.type.read(checker, (*fpath, d.name)))  # type: ignore[misc]
        if value is not None:
            values[d.attr] = value
    # A field refused holds its type's placeholder, so that the rest of the step is still checked
    # (and counted in the bounds, for nothing) while its problem stands.
    step = cls(
        location=str(doc.where(path)), **{d.attr: values.get(d.attr, d.placeholder()) for d in declared}
    )
    checker.attempt(
        lambda: _own_check(step, _StepCheck(checker, fpath, declared, frozenset(values)), doc, path)
    )
    # A count that could not be read leaves the step's size unknown: it is not bounded on its own
    # (the procedure's bound still applies, the count taken as 1).
    counted = all(d.attr in values for d in declared if d.type is COUNT and not d.optional)
    if checker.over_bounds == refused_inside and counted:
        where = cls.bound_field
        checker.bounded((*fpath, where) if where else path, (step,), f"this {kind}")
    return step


def _own_check(step: Step, ctx: _StepCheck, doc: Doc, path: P) -> None:
    """``step.check(ctx)``; a plugin's kind whose check fails with a bug is one located problem.

    A bug of ours still raises (it is ours to see, as an internal error); a plugin's is the
    plugin's, and the user is told whose, where the step stands, rather than "internal error".
    """
    try:
        step.check(ctx)
    except (LocatedError, LocatedProblems):
        raise
    except Exception as exc:
        module = type(step).__module__
        if module == "rig" or module.startswith("rig."):
            raise
        reason = " ".join(str(exc).split()) or "no message"
        raise doc.error(
            path, f"the {step.kind} step's own check failed ({module}): {type(exc).__name__}: {reason}"
        ) from exc


class _StepCheck:
    """The validator as one step's ``check`` sees it (:class:`rig.steps.CheckContext`)."""

    def __init__(
        self, checker: _Checker, fpath: P, declared: Sequence[Declared], read: frozenset[str]
    ) -> None:
        self._checker = checker
        self._fpath = fpath
        self._names = {d.attr: d.name for d in declared}
        self._read = read

    @property
    def bench(self) -> BenchSpec | None:
        """The bench, if it loaded."""
        return self._checker.bench

    @property
    def sample_period_s(self) -> float:
        """The procedure's sample period."""
        return self._checker.sample_period_s

    def has(self, *attrs: str) -> bool:
        """Whether the fields filling ``attrs`` were all read."""
        return all(a in self._read for a in attrs)

    def refuse(self, attr: str, why: str) -> None:
        """A problem at the field that fills ``attr``."""
        self._checker.problems.append(self._checker.doc.error((*self._fpath, self._names[attr]), why))

    def level_pa(self, volume: str) -> float | None:
        """The pressure ``volume`` was last brought to."""
        return self._checker.levels_pa.get(volume)

    def bring(self, level: Level) -> None:
        """This step brings a volume to ``level``."""
        self._checker.levels_pa[level.volume] = level.pressure_pa

    def measured(self) -> Sequence[str]:
        """The decay measurements taken so far."""
        return tuple(self._checker.measured)

    def measure(self, name: str) -> None:
        """This step takes the measurement ``name``."""
        self._checker.measured.append(name)
