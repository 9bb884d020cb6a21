"""What a run tells whoever watches it (the live terminal view, a test), as it happens.

The runner calls these methods from its own thread, between samples; an observer must
return quickly and never raise (a broken display must not stop a leak test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class RunObserver(Protocol):
    """Receives a run's progress; every method is optional in spirit (implement as no-ops)."""

    def step_started(self, progress: StepProgress) -> None:
        """A step began."""

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """One sample of every channel (Pa, K or V; None for a dropout) at clock time ``t_s``."""

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """The live estimate of the measurement ``name`` (plain OLS on the samples so far)."""

    def event(self, t_s: float, kind: str, message: str) -> None:
        """Something the run record logs (a fault, a prompt, a measurement, the safe state)."""

    def finished(self, verdict: str, reason: str) -> None:
        """The run ended."""


class NullObserver:
    """Watches nothing."""

    def step_started(self, progress: StepProgress) -> None:
        """Ignore."""

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Ignore."""

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """Ignore."""

    def event(self, t_s: float, kind: str, message: str) -> None:
        """Ignore."""

    def finished(self, verdict: str, reason: str) -> None:
        """Ignore."""
