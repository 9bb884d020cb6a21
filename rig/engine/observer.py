"""What a run tells whoever watches it, as it happens: one event stream, many observers.

The record writer (:class:`rig.execution.recorder.Recorder`), the live terminal view and a test's
probe are all observers of the same stream, in the order they were given: the record first,
so that what is shown has been written. The runner calls these methods from its own thread,
between samples; an observer must return quickly and never raise (a broken display must not
stop a leak test). An observer whose failure must stop the run (the record: a bench must not
run on unrecorded) says so in its ``failure`` attribute, which the runner reads at every sample.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rig.engine.runner import RunOutcome


@dataclass(frozen=True)
class StepProgress:
    """The step now running: its place in the procedure and how long it may take.

    ``nominal_s`` is how long the step runs when all goes well (a wait, a measurement);
    ``max_s`` bounds a step that ends on a condition (a fill, a pump-down, stabilising).
    Either may be None when the step has no time of its own (setting valves).
    """

    name: str
    kind: str
    index: int  # 1-based, counting steps as the procedure lists them (repeats flattened)
    total: int
    started_s: float
    nominal_s: float | None = None
    max_s: float | None = None
    remaining_after_s: float = 0.0  # nominal time of the steps still to come after this one
    # The most the steps to come may add beyond that (timeouts of fills, pump-downs, ...).
    extra_after_s: float = 0.0
    # Whether this step, or one to come, waits with no bound (an operator's prompt).
    waits_unbounded: bool = False
    unbounded_after: bool = False


class RunObserver(Protocol):
    """Receives a run's progress; every method is optional in spirit (implement as no-ops)."""

    def step_started(self, progress: StepProgress) -> None:
        """A step began."""

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """One sample of every channel (Pa, K or V; None for a dropout) at clock time ``t_s``."""

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """The live estimate of the measurement ``name`` (plain OLS on the samples so far)."""

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Something the run record logs (a fault, a prompt, a measurement, the safe state).

        ``data`` is what the record keeps beside the message (the step, a channel, a traceback).
        """

    def finished(self, outcome: RunOutcome) -> None:
        """The run ended, its safe state applied: ``outcome`` is final."""


class NullObserver:
    """Watches nothing."""

    def step_started(self, progress: StepProgress) -> None:
        """Ignore."""

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Ignore."""

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """Ignore."""

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Ignore."""

    def finished(self, outcome: RunOutcome) -> None:
        """Ignore."""


class EventStream:
    """A run's one event stream: each event goes to every observer, in the order they were added."""

    def __init__(self, observers: Iterable[RunObserver] = ()) -> None:
        self.observers: list[RunObserver] = list(observers)

    def add(self, observer: RunObserver) -> None:
        """Let ``observer`` watch from the next event on (after those already watching)."""
        self.observers.append(observer)

    @property
    def failure(self) -> str | None:
        """Why an observer the run depends on (the record) failed; None while all is well."""
        for observer in self.observers:
            why: str | None = getattr(observer, "failure", None)
            if why is not None:
                return why
        return None

    def step_started(self, progress: StepProgress) -> None:
        """A step began."""
        for observer in self.observers:
            observer.step_started(progress)

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """One sample of every channel."""
        for observer in self.observers:
            observer.sampled(t_s, values)

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """A live estimate."""
        for observer in self.observers:
            observer.leak_rate(name, rate_pa_m3_s, stderr_pa_m3_s, n)

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """An event for the record."""
        for observer in self.observers:
            observer.event(t_s, kind, message, **data)

    def finished(self, outcome: RunOutcome) -> None:
        """The run ended."""
        for observer in self.observers:
            observer.finished(outcome)
