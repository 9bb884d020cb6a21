"""The one way a procedure runs: on a bench (real or simulated), with a clock and observers.

``rig run``, the planner's simulation check (``rig plan --simulate``) and the tests all call
:func:`execute`, so that every run is assembled alike: a session on every instrument, their
identities and settings in the record, the record writer first among the observers of the
run's event stream, the record sealed once it is whole. An instrument that fails before the
run begins leaves no record (nothing was measured) but the safe state is still driven on
every valve instrument that answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from rig.clock import Clock
from rig.engine.masters import MasterStore
from rig.engine.observer import RunObserver
from rig.engine.runner import Runner, RunOutcome, RunVerdict
from rig.engine.session import RigSession, command_safe_state
from rig.execution.bench_access import BenchAccess
from rig.execution.recorder import Recorder
from rig.procedure.loader import Procedure
from rig.record.run_store import RunStore
from rig.steps.context import Answer

# How long one instrument transaction may take before it counts as failed.
TRANSACTION_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class RecordPlan:
    """Where and how a run is recorded.

    ``metadata`` goes to the run's ``run.json`` (the instruments' identities and settings are
    added as the run opens them); ``files`` are kept beside it by name (the procedure and
    bench as run); ``seal`` signs the finished directory (None: not sealed).
    """

    store: RunStore
    metadata: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    seal: Callable[[Path], object] | None = None


@dataclass(frozen=True)
class Execution:
    """A run that was executed: its outcome and, when recorded, where."""

    outcome: RunOutcome
    recorder: Recorder | None = None  # None: not recorded (or the instruments failed first)
    # False: an instrument failed before the run began, and nothing was measured.
    started: bool = True

    @property
    def run_id(self) -> str | None:
        """The recorded run's id (None: not recorded)."""
        return None if self.recorder is None else self.recorder.run_id

    @property
    def run_dir(self) -> Path | None:
        """The recorded run's directory (None: not recorded)."""
        return None if self.recorder is None else self.recorder.run_dir

    @property
    def record_problems(self) -> list[str]:
        """What of the record could not be written, sealed or indexed (empty: it is whole)."""
        return [] if self.recorder is None else self.recorder.problems


def execute(
    procedure: Procedure,
    access: BenchAccess,
    clock: Clock,
    *,
    record: RecordPlan | None = None,
    observers: Sequence[RunObserver] = (),
    answer: Callable[[str], bool | Answer] | None = None,
    prepare: Callable[[Runner], None] | None = None,
    timeout_s: float = TRANSACTION_TIMEOUT_S,
) -> Execution:
    """Run ``procedure`` on the bench ``access`` reaches, timed by ``clock``, watched by ``observers``.

    ``record`` (None: no record) says where the run is written, sealed at its end;
    ``answer`` answers operator prompts (None: yes to all); a simulated bench acts out what a
    confirmed prompt names. ``prepare`` sees the runner before the run starts (a caller routes
    stop signals to it, a test schedules a fault). Whatever happens, the run ends in the
    bench's safe state (see :class:`rig.engine.runner.Runner`).
    """
    bench = procedure.bench
    try:
        session = RigSession(bench, access.resources, timeout_s=timeout_s, options=access.driver_options)
    except DriverError as exc:
        return _not_started(procedure, access, exc, timeout_s)
    try:
        identities, settings = session.identities(), session.settings()
    except BaseException as exc:
        # Closed before the safe state is commanded: an instrument may take one connection only.
        session.close()
        if isinstance(exc, DriverError):
            return _not_started(procedure, access, exc, timeout_s)
        raise
    with session:
        recorder = None
        if record is not None:
            metadata = {**record.metadata, "identities": identities, "settings": settings}
            channels = list(bench.channels)
            writer = record.store.create(procedure.name, bench.name, channels, metadata, record.files)
            recorder = Recorder(writer, record.seal)
            if access.lock is not None:
                access.lock.name_run(recorder.run_id)  # a second controller is told which run
        watching = [recorder, *observers] if recorder is not None else list(observers)
        runner = Runner(procedure, session, clock, watching, answer, access.act)
        runner.run_id = None if recorder is None else recorder.run_id
        if record is not None:
            # Masters' offsets live beside the runs they were measured in (one data directory).
            runner.masters = MasterStore(record.store.data_dir, simulated=access.simulation is not None)
        if prepare is not None:
            prepare(runner)
        outcome = runner.run()
    return Execution(outcome, recorder)


def _not_started(procedure: Procedure, access: BenchAccess, exc: DriverError, timeout_s: float) -> Execution:
    """An instrument failed before the run began: make safe what answers, record nothing."""
    attempt = command_safe_state(procedure.bench, access.resources, timeout_s, options=access.driver_options)
    reason = f"instrument fault before the run started: {exc}; {attempt.reason}"
    return Execution(RunOutcome(RunVerdict.ABORTED, reason, safe_state_reason=attempt.reason), started=False)
