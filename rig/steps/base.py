"""The base class of step kinds, and the one walk over a tree of steps.

A step kind is a frozen dataclass subclass of :class:`Step` that names itself (``kind``),
declares its fields (:func:`rig.steps.fields.step_field`) and owns its whole life:

* ``check(ctx)``: what the validator checks beyond each field's own type (fields against one
  another, against the bench, against the steps before it), reported where the field stands;
* ``planned_duration(response_s)``: how long it takes, nominally and at the longest (the
  progress, the ETA, the validator's bounds, the planner);
* ``relies_on(bench)``: the channels and leak standards its results depend on (calibration);
* ``kept_channels(bench)``: the channels whose samples it looks back at while it runs (fits,
  settling), the only ones the engine keeps in memory;
* ``run(ctx)``: what the engine executes, against :class:`rig.steps.context.StepContext`.

Nothing else in the code knows a kind's fields: the loader reads them generically from the
declarations, and every consumer asks the step. A kind that lists nested steps (a ``steps``
field, like ``repeat``) is a *container*: it is not itself an executed step, its nested steps
are, ``passes()`` times over.
"""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rig.steps.fields import CHANNEL_REF, DECLARED, STEPS, Declared

if TYPE_CHECKING:
    from rig.bench import BenchSpec
    from rig.steps.context import CheckContext, StepContext


@dataclass(frozen=True)
class Level:
    """Where a step leaves a volume's pressure: a fill's target (up to its tolerance above), a pump-down's."""

    volume: str
    pressure_pa: float
    margin_pa: float = 0.0


@dataclass(frozen=True)
class Brought:
    """A level a step of the running procedure brought a volume to, what the volume read before it
    (None: no reading) and the procedure's test gas, so the steps after it can tell what the gas
    can have come to since."""

    level: Level
    from_pa: float | None
    gas: str = "air"


@dataclass(frozen=True)
class MeasuredWindow:
    """How a step fitted a measurement: the volume, the thermometer that compensated it, the direction."""

    volume: str
    temperature: str | None
    direction: Literal["decay", "rise"]


@dataclass(frozen=True, kw_only=True)
class Step(ABC):
    """One step of a procedure, validated, its fields in SI (names of bench items kept as text).

    A subclass is a frozen dataclass (``@dataclass(frozen=True, kw_only=True)``) with a ``kind``
    (the word written in YAML) and its fields declared with :func:`rig.steps.fields.step_field`;
    it overrides ``run`` and whichever of the other hooks apply (each has a default that does
    nothing or costs nothing). Register it with :func:`rig.steps.register_step` and the loader
    accepts it. ``location`` is where the step was written (``file:line:col``), empty for one
    built in code.
    """

    kind: ClassVar[str]
    # The YAML field where a step too long for the bounds (rig.procedure.bounds) is shown; None:
    # at the step itself.
    bound_field: ClassVar[str | None] = None
    # Whether the step may wait with no bound at all (for a person): its time cannot be foreseen.
    waits_unbounded: ClassVar[bool] = False

    location: str = ""

    @classmethod
    def declared(cls) -> tuple[Declared, ...]:
        """The kind's fields, in the order they are declared (the order they are read and checked)."""
        return _declared(cls)

    @classmethod
    def is_container(cls) -> bool:
        """Whether the kind lists nested steps (and so is no executed step itself)."""
        return any(d.type is STEPS for d in cls.declared())

    @property
    def fields(self) -> dict[str, Any]:
        """The fields written, by their YAML names, in SI (nested steps left out): for display and tests."""
        out = {}
        for d in self.declared():
            value = getattr(self, d.attr)
            if d.type is not STEPS and value is not None:
                out[d.name] = value
        return out

    @property
    def label(self) -> str:
        """What the record and the live view call the step: its ``name`` if it has one, else its kind."""
        for d in self.declared():
            if d.name == "name" and isinstance(value := getattr(self, d.attr), str):
                return value
        return self.kind

    def nested(self) -> tuple[Step, ...]:
        """The steps listed inside this one (a repeat's), in order."""
        out: tuple[Step, ...] = ()
        for d in self.declared():
            if d.type is STEPS:
                out += tuple(getattr(self, d.attr))
        return out

    def passes(self) -> int:
        """How many times a container runs its nested steps."""
        return 1

    def check(self, ctx: CheckContext) -> None:  # noqa: B027 - most kinds need no check of their own
        """Report (``ctx.refuse``) what the fields' types alone cannot: fields against one another,
        against the bench, against the steps before. A field that could not be read holds its
        type's placeholder and already has its problem: test ``ctx.has(...)`` before relying on it.
        """

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """(nominal, maximum) seconds the step takes; None where it has no time of its own.

        ``response_s`` is the bench's valve response time. A step that ends on a condition (a
        fill reaching its target) has no nominal time, only a maximum (its timeout).
        """
        return None, None

    def relies_on(self, bench: BenchSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(channels, valves of leak standards) whose calibration the step's results depend on.

        By default the channels its fields name; a kind that reads others, or opens a leak
        standard, says so.
        """
        channels = []
        for d in self.declared():
            value = getattr(self, d.attr)
            if d.type is CHANNEL_REF and value is not None:
                channels.append(value)
        return tuple(channels), ()

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """The channels whose samples the step looks back at while it runs (fits, settling).

        Only these does the engine keep in memory for the step (``ctx.series``, float64 columns
        from the step's start); the record on disk has every channel. By default none: a step
        that only samples, moves valves or waits costs no memory however long it lasts.
        """
        return ()

    def level(self) -> Level | None:
        """The pressure the step brings its volume to, for the steps after it (None: it sets none)."""
        return None

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """How the step fitted its measurement called ``name`` (None: it records no such measurement)."""
        return None

    @abstractmethod
    def run(self, ctx: StepContext) -> None:
        """Execute the step: sample, move valves, measure, through ``ctx`` (the engine)."""


# A class's declarations never change: read them once (the engine asks at every executed step).
@functools.cache
def _declared(cls: type[Step]) -> tuple[Declared, ...]:
    out = []
    for f in dataclasses.fields(cls):
        if DECLARED in f.metadata:
            name, type_, optional = f.metadata[DECLARED]
            out.append(Declared(name, type_, f.name, optional))
    return tuple(out)


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step of ``steps``, nested ones included, depth first in the order the validator reads
    them: a container's nested steps come before the container itself."""
    for step in steps:
        yield from walk(step.nested())
        yield step


def map_steps(steps: Sequence[Step], change: Callable[[Step], Step]) -> tuple[Step, ...]:
    """``steps`` with ``change`` applied to every step, nested ones included (the tree kept as it is)."""
    out = []
    for step in steps:
        if step.is_container():
            nested: dict[str, Any] = {
                d.attr: map_steps(getattr(step, d.attr), change) for d in step.declared() if d.type is STEPS
            }
            step = dataclasses.replace(step, **nested)
        out.append(change(step))
    return tuple(out)
