"""What a step may ask of the validator and of the engine: two small protocols.

Steps never import the engine's runner nor the loader: they are handed a context. The
validator gives :class:`CheckContext` to ``Step.check``; the engine gives :class:`StepContext`
to ``Step.run`` (:class:`rig.engine.step_context.EngineContext` implements it over a run). A
plugin's step uses exactly what ours do, so these are the whole of what a kind can rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rig.bench import BenchSpec
    from rig.engine.masters import MasterStore
    from rig.engine.measurements import Measurement
    from rig.engine.measuring import Fitted
    from rig.engine.samples import SampleStore
    from rig.steps.base import Brought, Level, Step

Values = dict[str, float | None]


@dataclass(frozen=True)
class Answer:
    """An operator's answer to a prompt: what, who, from where, and when (the record keeps all four).

    True as a truth value for yes, so ``if ctx.ask(...)`` reads as it did when answers were bools.
    """

    yes: bool
    by: str  # the operator's name, or "automatic"
    origin: str  # "terminal", "station (client 127.0.0.1)", "--yes", "simulation"
    at: str  # ISO 8601, UTC, to the second

    def __bool__(self) -> bool:
        return self.yes

    @classmethod
    def now(cls, yes: bool, by: str, origin: str) -> Answer:
        """An answer given at this moment."""
        return cls(yes, by, origin, datetime.now(UTC).isoformat(timespec="seconds"))

    def record(self) -> dict[str, str]:
        """The answer as the run's events keep it beside the prompt."""
        return {
            "answer": "yes" if self.yes else "no",
            "answered_by": self.by,
            "origin": self.origin,
            "answered_at": self.at,
        }


class CheckContext(Protocol):
    """The validator, as one step's ``check`` sees it (the steps before it already checked)."""

    @property
    def bench(self) -> BenchSpec | None:
        """The bench (None when it failed to load: its own problems are reported, bench checks skipped)."""

    @property
    def sample_period_s(self) -> float:
        """The procedure's sample period."""

    def has(self, *attrs: str) -> bool:
        """Whether the fields filling ``attrs`` were all read (else they hold placeholders)."""

    def refuse(self, attr: str, why: str) -> None:
        """Report a problem at the field that fills ``attr`` (``file:line:col: why``)."""

    def level_pa(self, volume: str) -> float | None:
        """The pressure ``volume`` was last brought to by an earlier step (None: none did)."""

    def bring(self, level: Level) -> None:
        """Record that this step brings a volume to ``level`` (the steps after it read their gauges there)."""

    def measured(self) -> Sequence[str]:
        """The names of the decay measurements taken before this step, in order."""

    def measure(self, name: str) -> None:
        """Record that this step takes the measurement ``name`` (a later comparison may name it)."""


class StepContext(Protocol):
    """The engine, as a running step sees it: sampling, valves, the record and the outcome."""

    @property
    def bench(self) -> BenchSpec:
        """The bench the run is on."""

    @property
    def period_s(self) -> float:
        """The sample period."""

    @property
    def series(self) -> SampleStore:
        """This step's samples so far, of the channels its ``kept_channels`` names (float64
        columns, NaN where a channel read nothing): ``times()``, ``values(channel)``, ``window``."""

    @property
    def measurements(self) -> Mapping[str, Measurement]:
        """The measurements the run has taken so far, by name."""

    @property
    def findings(self) -> dict[str, Any]:
        """The run's findings beyond measurements (a step adds its own: ``leaking_segment`` …)."""

    @property
    def masters(self) -> MasterStore | None:
        """Where master parts' offsets are kept, beside the run records (None: a run not recorded)."""

    def brought(self, volume: str) -> Brought | None:
        """The level the last step of this run that sets one (a fill, a pump-down) brought ``volume``
        to, with what it read before (None: no step has yet)."""

    def now(self) -> float:
        """The run's clock."""

    def sample(self) -> Values:
        """Read, record and check every channel once now."""

    def hold(
        self,
        duration_s: float,
        until: Callable[[Values], bool] | None = None,
        each: Callable[[float, Values], None] | None = None,
    ) -> bool:
        """Sample for up to ``duration_s``; True as soon as ``until`` holds (False if time ran out)."""

    def set_valves(self, states: Mapping[str, bool]) -> None:
        """Move valves (True: open), then expect the gas to show it."""

    def valve_states(self) -> dict[str, bool]:
        """What the valve instruments say each valve was told (True: open)."""

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record an event at the clock's time."""

    def expect_toward(self, channel: str, target_pa: float, what: str) -> None:
        """Expect ``channel`` to head for ``target_pa`` through the valves now open (else one is stuck)."""

    def hold_pressure(self, instrument: str, pressure_pa: float) -> None:
        """Have the flow controller ``instrument`` hold ``pressure_pa`` (absolute), confirmed by readback."""

    def stop_flow(self, instrument: str) -> None:
        """Stop the flow controller ``instrument``'s flow (the safe state stops every one anyway)."""

    def ask(self, message: str) -> Answer:
        """Ask the operator (a stop request interrupts the wait); true for yes, with who answered, where."""

    def act(self, action: str) -> None:
        """Perform what the operator was asked to do (a simulated bench acts it out)."""

    def run_steps(self, steps: Sequence[Step]) -> None:
        """Run ``steps`` in order, each as an executed step of the run."""

    def record(self, name: str, entry: Measurement) -> None:
        """Add ``entry`` to the outcome and the record as the measurement ``name``."""

    def fit_hold(
        self, name: str, channel: str, volume: str, duration_s: float, temperature: str | None, sign: float
    ) -> tuple[Fitted, tuple[float, float]]:
        """Hold ``duration_s`` with a live estimate, then fit that window: the fit and the window."""

    def fit_window(
        self, channel: str, volumes: tuple[str, ...], temperature: str | None, start: float, sign: float = 1.0
    ) -> Fitted:
        """Fit ``channel``'s samples since ``start`` over ``volumes``, with the bench's Type-B terms."""

    def isolated(self, entry: Measurement, volumes: tuple[str, ...]) -> Measurement:
        """``entry``, its verdict withdrawn unless the valves parting ``volumes`` from the rest show shut."""
