"""A real dask.distributed scheduler and two workers, each its own process, for the module's tests.

The scheduler binds 127.0.0.1 on a free port and writes its address to a scheduler file; the
workers (one process, one thread each, without a nanny process: nothing to restart here) join
it. All three are stopped when the module ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
LOOPBACK = "127.0.0.1"


def _env() -> dict[str, str]:
    """This process's environment, with the tree under test first on the workers' path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _wait_for_address(path: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dask scheduler exited: {log.read_text()[-2000:]}")
        if path.exists():
            try:
                address: str = json.loads(path.read_text())["address"]
                return address
            except (ValueError, KeyError):
                pass  # being written
        time.sleep(0.05)
    raise RuntimeError(f"the dask scheduler wrote no address in {START_TIMEOUT_S:g} s")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate ``processes`` one after the other, waiting for each.

    Workers first, while their scheduler still answers: a worker whose scheduler is gone spends
    its connect timeout (10 s) trying to say goodbye.
    """
    for p in processes:
        if p.poll() is None:
            p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _spawn(tool: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m distributed.cli.<tool> ARGS``, its output to ``log``, run in ``log``'s directory."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", f"distributed.cli.{tool}", *args]
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_env(), cwd=log.parent)


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address (tcp://127.0.0.1:PORT) of a scheduler with two single-threaded workers joined."""
    from distributed import Client

    directory = tmp_path_factory.mktemp("dask")
    scheduler_file = directory / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        log = directory / "scheduler.log"
        on_loopback = ["--host", LOOPBACK, "--no-dashboard"]
        free_port = ["--port", "0", "--scheduler-file", str(scheduler_file)]
        processes.append(_spawn("dask_scheduler", [*on_loopback, *free_port], log))
        address = _wait_for_address(scheduler_file, processes[0], log)
        one = ["--nworkers", "1", "--nthreads", "1", "--no-nanny"]
        for i in range(2):
            args = [address, *on_loopback, *one, "--local-directory", str(directory / str(i))]
            processes.append(_spawn("dask_worker", args, directory / f"worker{i}.log"))
        with Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        _stop(processes[::-1])  # the workers first
