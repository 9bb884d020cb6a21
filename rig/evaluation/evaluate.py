"""An evaluation from end to end: the true leak found, the grid made into tasks, run, reported."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.errors import InputError
from rig.evaluation.cluster import dask_client, default_workers, run_on
from rig.evaluation.grid import FactorReport, reports
from rig.evaluation.tasks import ProcedureText, RunTask, unlogged
from rig.evaluation.true_leak import TrueLeak, check_leak_kept, equivalent_diameter_m, probe_conditions
from rig.procedure.loader import Procedure

# The most runs one evaluation makes: every run is a task held in memory here and on the scheduler
# (300 000 took 3.4 GB and minutes before the first run; a typo of --runs 10**9 would exhaust the
# machine). At a few runs per second per worker, this is already half a day on a small cluster.
MAX_RUNS = 100_000
# Local worker processes per CPU this process may use, at most.
MAX_WORKERS_PER_CPU = 4


@dataclass(frozen=True)
class Evaluation:
    """A finished evaluation: the true leak's mapping and the report of every factor."""

    procedure: Procedure
    true_leak: TrueLeak
    runs_per_factor: int
    seed: int
    factors: list[FactorReport]
    elapsed_s: float
    workers: str  # "local:K" or the scheduler's address

    def to_json(self) -> dict[str, Any]:
        """``rig evaluate --json``."""
        c = self.true_leak.conditions
        total = sum(len(f.results) for f in self.factors)
        return {
            "procedure": self.procedure.name,
            "measurement": self.true_leak.measurement,
            "limit_pa_m3_s": self.true_leak.limit_pa_m3_s,
            "runs_per_factor": self.runs_per_factor,
            "seed": self.seed,
            "workers": self.workers,
            "conditions": {
                "volume": self.true_leak.volume,
                "volume_pa": c.volume_pa,
                "volume_k": c.volume_k,
                "other": self.true_leak.other,
                "other_pa": c.other_pa,
            },
            "elapsed_s": self.elapsed_s,
            "runs_per_s": total / self.elapsed_s if self.elapsed_s > 0 else None,
            "factors": [
                {**f.to_json(), "leak_diameter_m": equivalent_diameter_m(self.procedure, f.cd_area_m2)}
                for f in self.factors
            ],
        }


def evaluate(
    procedure: Procedure,
    path: Path,
    factors: Sequence[float],
    runs: int,
    *,
    seed: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Evaluation:
    """Run ``procedure`` (read from ``path``) ``runs`` times at each factor of its limit, on Dask."""
    bench = procedure.bench
    if not bench.simulated or bench.doc is None:
        raise InputError(f"bench {bench.name!r} has no physics: part; rig evaluate runs in simulation")
    if runs < 1:
        raise InputError(f"--runs must be at least 1, got {runs}")
    if runs * len(factors) > MAX_RUNS:
        raise InputError(
            f"--runs {runs} at {len(factors)} factors is {runs * len(factors)} runs;"
            f" one evaluation makes at most {MAX_RUNS}"
        )
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if workers is not None and workers > MAX_WORKERS_PER_CPU * default_workers():
        # Each local worker is a process with NumPy, SciPy and the simulator loaded: a mistyped 1000
        # would exhaust the machine long before a run, and more than a few per CPU only queue for it.
        raise InputError(
            f"--workers {workers}: at most {MAX_WORKERS_PER_CPU} per CPU here"
            f" ({MAX_WORKERS_PER_CPU * default_workers()}); more machines take a --scheduler"
        )
    base = seed if seed is not None else bench.doc.integer(("physics", "seed"), 0)
    if base < 0 or base + runs - 1 > 2**32 - 1:
        raise InputError(f"--seed {base}: seeds {base} to {base + runs - 1} must lie in 0 to 2**32 - 1")
    check_leak_kept(procedure)
    started = time.perf_counter()
    files = ProcedureText.read(procedure, path)
    # Connected first: a scheduler that cannot be reached is said before any run is made.
    with dask_client(scheduler, workers) as client:
        where = scheduler if scheduler is not None else f"local:{len(client.scheduler_info()['workers'])}"
        # The probe runs here, while the workers start: the conditions of the measurement.
        with unlogged():  # the physics' solver warnings, once per probe, are not the user's to read
            true_leak = probe_conditions(procedure, seed=base)
        areas = {f: true_leak.cd_area_m2(f) for f in factors}
        tasks = [RunTask(files, f, areas[f], base + i) for f in factors for i in range(runs)]
        results = run_on(client, tasks, true_leak.measurement, progress)
    mapping = {f: (true_leak.rate_at(a), a) for f, a in areas.items()}
    return Evaluation(
        procedure,
        true_leak,
        runs,
        base,
        reports(factors, results, mapping),
        time.perf_counter() - started,
        where,
    )
