"""Simulated runs per second for ``rig evaluate``: the in-process transport against TCP, 1 and 2 workers.

    python -m tests.benchmarks.evaluation_speed [--reps 5] [--runs 8] [--procedure pressure_decay]

Side by side in one process, interleaved repetition by repetition, so that whatever else the
machine does lands on both sides of each comparison alike:

* transports: one run of the procedure (factor 1, seed = repetition) in process, then the same
  run over loopback TCP (pyvisa-py to the simulated servers), timed on the wall clock;
* workers: a local Dask cluster of 1 worker and one of 2, both started (and warmed up with one
  run per worker) before timing; each repetition sends ``--runs`` in-process runs to one, then
  to the other.

Prints a Markdown table: median, min and max of runs/s over the repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from distributed import Client

from rig.clock import VirtualClock
from rig.evaluation.cluster import dask_client, run_on
from rig.evaluation.tasks import ProcedureText, RunTask
from rig.evaluation.true_leak import probe_conditions, set_leak
from rig.execution.bench_access import SimTransport, open_bench
from rig.execution.execute import execute
from rig.procedure.loader import Procedure, load_procedure

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"


@dataclass(frozen=True)
class Rates:
    """Runs per second over the repetitions of one side."""

    name: str
    per_rep: list[float]

    def row(self) -> str:
        """``| name | median | min | max | n |``."""
        r = self.per_rep
        return f"| {self.name} | {statistics.median(r):.2f} | {min(r):.2f} | {max(r):.2f} | {len(r)} |"


def one_run(procedure: Procedure, cd_area_m2: float, seed: int, transport: SimTransport) -> str:
    """One run, unrecorded, on a virtual clock; its verdict."""
    clock = VirtualClock()
    with ExitStack() as stack:
        access = open_bench(
            procedure.bench, sim=True, clock=clock, stack=stack, seed=seed, transport=transport
        )
        assert access.simulation is not None
        set_leak(access.simulation, procedure, cd_area_m2)
        return execute(procedure, access, clock).outcome.verdict.value


def transports(procedure: Procedure, cd_area_m2: float, reps: int) -> tuple[Rates, Rates, list[str]]:
    """Interleaved single runs in process and over TCP; the verdicts of both, pairwise."""
    inproc, tcp, verdicts = [], [], []
    sides: tuple[tuple[SimTransport, list[float]], ...] = (("inprocess", inproc), ("tcp", tcp))
    for rep in range(reps):
        pair = []
        for transport, rates in sides:
            started = time.perf_counter()
            pair.append(one_run(procedure, cd_area_m2, rep, transport))
            rates.append(1.0 / (time.perf_counter() - started))
        verdicts.append("/".join(pair))
    return Rates("one run in process", inproc), Rates("one run over TCP (pyvisa-py)", tcp), verdicts


def workers(path: Path, procedure: Procedure, cd_area_m2: float, runs: int, reps: int) -> list[Rates]:
    """Interleaved batches of ``runs`` on local clusters of 1 and 2 workers."""
    files = ProcedureText.read(procedure, path)
    measurement = probe_conditions(procedure).measurement

    def batch(client: Client, size: int, first_seed: int) -> float:
        tasks = [RunTask(files, 1.0, cd_area_m2, first_seed + i) for i in range(size)]
        started = time.perf_counter()
        results = run_on(client, tasks, measurement)
        elapsed = time.perf_counter() - started
        assert all(r.verdict != "ABORTED" for r in results), [r.reason for r in results]
        return size / elapsed

    rates: dict[int, list[float]] = {1: [], 2: []}
    with ExitStack() as stack:
        clients = {n: stack.enter_context(dask_client(None, n)) for n in (1, 2)}
        for n, client in clients.items():
            batch(client, n, 0)  # warm-up: every worker has imported rig and loaded the procedure
        for rep in range(reps):
            for n, client in clients.items():
                rates[n].append(batch(client, runs, 1000 * (rep + 1)))
    return [Rates(f"{runs} runs on 1 worker", rates[1]), Rates(f"{runs} runs on 2 workers", rates[2])]


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--procedure", default="pressure_decay")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--runs", type=int, default=8, help="runs per batch on the Dask clusters")
    parser.add_argument("--skip-workers", action="store_true", help="compare the transports only")
    args = parser.parse_args(argv)
    path = PROCEDURES / f"{args.procedure}.yaml"
    procedure = load_procedure(path)
    cd_area_m2 = probe_conditions(procedure).cd_area_m2(1.0)
    inproc, tcp, verdicts = transports(procedure, cd_area_m2, args.reps)
    rows = [inproc, tcp]
    if not args.skip_workers:
        rows += workers(path, procedure, cd_area_m2, args.runs, args.reps)
    print(f"{args.procedure}, {args.reps} interleaved repetitions (verdicts in process/TCP: {verdicts})\n")
    print("| what | runs/s median | min | max | reps |\n|---|---:|---:|---:|---:|")
    for rates in rows:
        print(rates.row())
    ratio = statistics.median(a / b for a, b in zip(inproc.per_rep, tcp.per_rep, strict=True))
    print(f"\nin process / TCP, median of the paired ratios: {ratio:.2f}")


if __name__ == "__main__":
    main()
