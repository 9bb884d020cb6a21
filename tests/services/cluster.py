"""A real dask.distributed scheduler and two workers, each its own process, on 127.0.0.1.

The scheduler binds a free port and writes its address to a scheduler file; the workers (one
process, one thread each, without a nanny process: nothing to restart here) join it and import
``rig`` from this checkout (it is put first on their PYTHONPATH). All three run in sessions of
their own, so a Ctrl-C at the terminal reaches the tests and not the cluster they still use;
they are stopped, the workers first, when the context ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.services.common import START_TIMEOUT_S, ServiceError, log_tail

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
WORKERS = 2
# How long each process is given to stop on SIGTERM before it is killed.
STOP_TIMEOUT_S = 15.0


def worker_env(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the tree under test first on the path (the workers run ``rig`` from it)."""
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _wait_for_address(path: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"the dask scheduler exited (code {process.returncode})" + log_tail(log))
        if path.exists():
            try:
                address: str = json.loads(path.read_text())["address"]
                return address
            except (ValueError, KeyError):
                pass  # being written
        time.sleep(0.05)
    raise ServiceError(f"the dask scheduler wrote no address in {START_TIMEOUT_S:g} s" + log_tail(log))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate ``processes`` one after the other, waiting for each.

    Workers first, while their scheduler still answers: a worker whose scheduler is gone spends
    its connect timeout (10 s) trying to say goodbye.
    """
    for p in processes:
        if p.poll() is None:
            p.terminate()
        try:
            p.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _spawn(tool: str, args: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``python -m distributed.cli.<tool> ARGS``, its output to ``log``, run in ``log``'s directory."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", f"distributed.cli.{tool}", *args]
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=log.parent,
            start_new_session=True,
        )


def _wait_for_workers(address: str, workers: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Return once ``workers`` have joined the scheduler; a worker that exits first is reported."""
    from distributed import Client

    deadline = time.monotonic() + START_TIMEOUT_S
    with Client(address, timeout=START_TIMEOUT_S) as client:  # type: ignore[no-untyped-call]
        while len(client.scheduler_info()["workers"]) < len(workers):
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    raise ServiceError(f"a dask worker exited (code {worker.returncode})" + log_tail(log))
            if time.monotonic() > deadline:
                joined = len(client.scheduler_info()["workers"])
                said = f"{joined} of {len(workers)} dask workers joined in {START_TIMEOUT_S:g} s"
                raise ServiceError(said + log_tail(logs[-1]))
            time.sleep(0.05)


@contextlib.contextmanager
def dask_cluster(directory: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The address (tcp://127.0.0.1:PORT) of a scheduler with two single-threaded workers joined.

    ``directory`` (existing) takes the scheduler file, the logs and the workers' scratch space;
    ``env`` (default: this process's) is the processes' environment, the checkout put first on its
    PYTHONPATH. Raises :class:`ServiceError` (one line, then the log's end) if one does not start.
    """
    environment = worker_env(os.environ if env is None else env)
    scheduler_file = directory / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        log = directory / "scheduler.log"
        on_loopback = ["--host", LOOPBACK, "--no-dashboard"]
        free_port = ["--port", "0", "--scheduler-file", str(scheduler_file)]
        processes.append(_spawn("dask_scheduler", [*on_loopback, *free_port], log, environment))
        address = _wait_for_address(scheduler_file, processes[0], log)
        one = ["--nworkers", "1", "--nthreads", "1", "--no-nanny"]
        logs = [directory / f"worker{i}.log" for i in range(WORKERS)]
        for i, worker_log in enumerate(logs):
            args = [address, *on_loopback, *one, "--local-directory", str(directory / str(i))]
            processes.append(_spawn("dask_worker", args, worker_log, environment))
        _wait_for_workers(address, processes[1:], logs)
        yield address
    finally:
        _stop(processes[::-1])  # the workers first
