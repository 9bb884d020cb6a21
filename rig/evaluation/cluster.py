"""Runs spread over Dask (dask.distributed): local worker processes, or a lab's scheduler.

Each run is one task (:func:`rig.evaluation.tasks.run_task`); tasks share nothing, so any
worker takes any of them. By default a :class:`distributed.LocalCluster` of ``workers``
processes (one thread each: a run is CPU-bound Python) is started on 127.0.0.1 and stopped
afterwards; with a scheduler address the runs go to that scheduler's workers, which need
Leakrig installed (and nothing else: a task carries the procedure's and bench's texts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from rig.errors import InputError
from rig.evaluation.tasks import RunResult, RunTask, run_task

if TYPE_CHECKING:
    from distributed import Client

# distributed is imported where used (a command that evaluates nothing never pays for it); its
# constructors and as_completed carry no annotations, hence the no-untyped-call ignores.

# How long to wait for a given scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10.0
# Progress is printed at most this often (and once at the end).
PROGRESS_EVERY_S = 2.0


def default_workers() -> int:
    """One worker process per CPU this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """A connected ``distributed.Client``: to ``scheduler``, or to a local cluster of ``workers``."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            _check_answers(scheduler)
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(f"--scheduler {scheduler}: cannot connect ({reason})") from None
        with client:
            _check_has_workers(client, scheduler)
            yield client
        return
    count = workers if workers is not None else default_workers()
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            # Its HTTP server (the dashboard's, when bokeh is installed) on loopback, any free port.
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _check_answers(scheduler: str) -> None:
    """Raise :class:`TimeoutError` unless ``scheduler`` completes Dask's handshake in time.

    ``Client``'s timeout bounds the TCP connect only: an address that accepts and then says nothing
    (another service, a hung scheduler) would be waited on for ever.
    """
    import asyncio

    from distributed.comm.core import connect

    async def handshake() -> None:
        comm = await connect(scheduler, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
        await comm.close()

    try:
        asyncio.run(asyncio.wait_for(handshake(), CONNECT_TIMEOUT_S))
    except TimeoutError:
        raise TimeoutError(f"no answer in {CONNECT_TIMEOUT_S:g} s") from None


def _check_has_workers(client: Client, scheduler: str) -> None:
    """:class:`InputError` unless a worker joins ``scheduler`` in time: without one, no run is ever
    made, and the evaluation would wait in silence for ever (progress is said per run done)."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise InputError(
            f"--scheduler {scheduler}: no worker joined in {CONNECT_TIMEOUT_S:g} s"
            f" (start them: dask worker {scheduler})"
        ) from None


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start the local workers with SIGINT ignored (they inherit it), then take it back here.

    A terminal's Ctrl-C goes to the whole process group: the workers would each die with a
    KeyboardInterrupt traceback while this process stops them anyway (one line, exit 130). A Ctrl-C
    during the second the workers take to start is not seen; the next one is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal dispositions are the main thread's to change
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_on(
    client: Client,
    tasks: Sequence[RunTask],
    measurement: str,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[RunResult]:
    """Every task's result (in completion order); a task that fails on its worker comes back ABORTED."""
    from distributed import as_completed

    futures = client.map(run_task, tasks, measurement=measurement, pure=False)
    task_of = {future.key: task for future, task in zip(futures, tasks, strict=True)}
    results: list[RunResult] = []
    started = time.perf_counter()
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        try:
            results.append(future.result())
        except Exception as exc:  # the worker died under it, or the task could not be unpickled
            task = task_of[future.key]
            reason = " ".join(str(exc).split()) or "no message"
            results.append(
                RunResult(task.factor, task.seed, "ABORTED", f"{type(exc).__name__}: {reason}", None, 0.0)
            )
        if progress is not None:
            progress(len(results), len(tasks), time.perf_counter() - started)
    return results


class ProgressLine:
    """``evaluate: 12/24 runs, 3.1 runs/s`` on ``stream``, at most every 2 s and at the end."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._last = -float("inf")

    def __call__(self, done: int, total: int, elapsed_s: float) -> None:
        """Report ``done`` of ``total`` runs after ``elapsed_s``."""
        now = time.perf_counter()
        if done < total and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        rate = done / elapsed_s if elapsed_s > 0 else 0.0
        stream = self.stream if self.stream is not None else sys.stderr  # stderr as it is now
        print(f"evaluate: {done}/{total} runs, {rate:.2f} runs/s", file=stream, flush=True)
