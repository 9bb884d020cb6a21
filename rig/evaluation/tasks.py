"""One simulated run of an evaluation as a task any worker can run: its inputs and its small result.

A task carries the texts of the procedure and its bench, not their paths: a Dask worker on
another machine has neither file. A worker loads them once (cached by their text) and then
runs seed after seed, each in process on a virtual clock (:mod:`rig.sim.inprocess`), unrecorded.
Whatever a run raises comes back as an ABORTED result with the reason: one broken run never
stops an evaluation.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.execution.bench_access import SimTransport, open_bench
from rig.execution.execute import execute
from rig.procedure.loader import Procedure, load_procedure_text
from rig.record.measurement import Measurement

# The verdicts an evaluation counts; a run's other verdicts (MEASURED: no limit judged) count
# as INCONCLUSIVE, since they neither detect nor clear the part.
VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE", "ABORTED")


@dataclass(frozen=True)
class ProcedureText:
    """A procedure and its bench as text (what a worker needs to load them anywhere)."""

    source: str  # the procedure file's path where it was read (names it in messages)
    text: str
    bench_source: str
    bench_text: str

    @classmethod
    def read(cls, procedure: Procedure, path: Path) -> ProcedureText:
        """The texts of ``procedure`` (loaded from ``path``) and of its bench file."""
        bench_path = Path(procedure.bench.source)
        return cls(
            str(path), path.read_text(encoding="utf-8"), str(bench_path), bench_path.read_text("utf-8")
        )

    def load(self) -> Procedure:
        """The procedure, validated, its bench read from a copy of its text (cached per process)."""
        return _load(self)


@dataclass(frozen=True)
class RunTask:
    """One run: the procedure, its true leak (a factor of the limit, as an effective area), a seed."""

    procedure: ProcedureText
    factor: float
    cd_area_m2: float
    seed: int
    transport: SimTransport = "inprocess"


@dataclass(frozen=True)
class RunResult:
    """What an evaluation keeps of a run."""

    factor: float
    seed: int
    verdict: str  # one of VERDICTS
    reason: str
    rate_pa_m3_s: float | None  # the decisive measurement's value (None: it gave none)
    elapsed_s: float  # wall time of the run on its worker


def run_task(task: RunTask, measurement: str) -> RunResult:
    """Run ``task``; the run's verdict and ``measurement``'s value, or ABORTED with what went wrong."""
    from rig.evaluation.true_leak import set_leak

    started = time.perf_counter()
    try:
        procedure = task.procedure.load()
        clock = VirtualClock()
        with ExitStack() as stack:
            stack.enter_context(unlogged())
            access = open_bench(
                procedure.bench, sim=True, clock=clock, stack=stack, seed=task.seed, transport=task.transport
            )
            assert access.simulation is not None
            set_leak(access.simulation, procedure, task.cd_area_m2)
            outcome = execute(procedure, access, clock).outcome
    except Exception as exc:  # a task reports, never raises: the evaluation counts it ABORTED
        reason = " ".join(str(exc).split()) or "no message"
        return RunResult(
            task.factor,
            task.seed,
            "ABORTED",
            f"{type(exc).__name__}: {reason}",
            None,
            time.perf_counter() - started,
        )
    verdict = outcome.verdict.value
    entry = outcome.measurements.get(measurement, Measurement())
    return RunResult(
        task.factor,
        task.seed,
        verdict if verdict in VERDICTS else "INCONCLUSIVE",
        outcome.reason,
        entry.value_pa_m3_s,
        time.perf_counter() - started,
    )


@contextlib.contextmanager
def unlogged() -> Iterator[None]:
    """A simulated run's own logging and warnings silenced: what ends a run is its result's reason.

    A local cluster's workers write to the terminal `rig evaluate` runs in: a simulated server that
    fails would print its traceback there once per aborted run, among the progress lines.
    """
    logger = logging.getLogger("rig")
    saved = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(saved)


@functools.cache
def _private_dir() -> Path:
    """This process's own directory for the bench files it loads, removed when it exits.

    Made by mkdtemp (mode 0700, a name no one can take first): a fixed name in /tmp, as before,
    could be made by another user of the machine, who then refused every run or swapped the bench.
    """
    directory = Path(tempfile.mkdtemp(prefix="leakrig-evaluate-"))
    atexit.register(shutil.rmtree, directory, True)
    return directory


@functools.lru_cache(maxsize=8)
def _load(files: ProcedureText) -> Procedure:
    digest = hashlib.sha256(files.bench_text.encode("utf-8")).hexdigest()[:16]
    directory = _private_dir() / digest
    directory.mkdir(exist_ok=True)
    bench_file = directory / Path(files.bench_source).name
    if not bench_file.exists() or bench_file.read_text("utf-8") != files.bench_text:
        # Written whole under another name, then renamed: a worker next door never reads half of it.
        partial = bench_file.with_suffix(f".{time.monotonic_ns()}.part")
        partial.write_text(files.bench_text, encoding="utf-8")
        partial.replace(bench_file)
    return load_procedure_text(files.text, files.source, load_bench(bench_file))
