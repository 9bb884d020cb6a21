"""The run record as an observer of the run's event stream.

The runner writes nothing itself: it tells its stream, and the recorder (first in the
stream) appends each sample and event through the :class:`rig.record.run_writer.RunWriter`,
and at the end writes the results, seals the record and marks it ended in the index. The
writer never raises while the run goes on; its first failure is the recorder's ``failure``,
on which the runner aborts (a bench must not run on unrecorded).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rig.engine.observer import StepProgress
from rig.record.run_writer import RunWriter

if TYPE_CHECKING:
    from rig.engine.runner import RunOutcome

# The step column of the samples taken before the first step begins.
FIRST_STEP = "start"


class Recorder:
    """Writes a run's samples, events and results to its run directory, and seals it at the end.

    ``seal`` (None: not sealed) signs the finished directory; ``problems`` lists, after the
    run, what could not be written, sealed or indexed (one line each; empty when whole).
    """

    def __init__(self, writer: RunWriter, seal: Callable[[Path], object] | None = None) -> None:
        self.writer = writer
        self.seal = seal
        self.step = FIRST_STEP
        self.problems: list[str] = []

    @property
    def failure(self) -> str | None:
        """The first write that failed (a full disk, a removed directory), or None."""
        return self.writer.failure

    @property
    def run_id(self) -> str:
        """The run's id in its store."""
        return self.writer.run_id

    @property
    def run_dir(self) -> Path:
        """The run's directory."""
        return self.writer.run_dir

    def step_started(self, progress: StepProgress) -> None:
        """Samples from now on belong to this step."""
        self.step = progress.name

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Append the sample row."""
        self.writer.sample(t_s, self.step, values)

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """A live estimate is no record: the measurement's fit at its end is."""

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Append the event (on disk at once)."""
        self.writer.event(t_s, kind, message, **data)

    def finished(self, outcome: RunOutcome) -> None:
        """Write the results, seal the record, mark the run ended in the index."""
        from rig.engine.runner import STATUS

        verdict = outcome.verdict
        self.problems = self.writer.finish(
            STATUS[verdict], verdict.value, outcome.reason, outcome.results(), seal=self.seal
        )
