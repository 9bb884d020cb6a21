"""``python -m tests.services``: the PostgreSQL server and Dask cluster CI runs the suite with.

Each launch starts a real server and a real cluster (a few seconds); the command it runs reports
what it saw and the processes and directories behind them, so that the test can check afterwards
that nothing is left, whichever way the launch ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.processes import as_from_a_shell
from tests.services import POSTGRES_ENV, SCHEDULER_ENV

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_TIMEOUT_S = 90.0
GONE_TIMEOUT_S = 10.0

# The command under the launcher: connects to both services, prints what it found as one JSON
# line, then exits with the code given, or waits for a signal ("wait").
PROBE = r"""
import json, os, signal, sys
import psycopg
from distributed import Client

url, address = os.environ["LEAKRIG_TEST_POSTGRES"], os.environ["LEAKRIG_TEST_SCHEDULER"]
with psycopg.connect(url, connect_timeout=10) as conn:
    one = conn.execute("SELECT 1").fetchone()[0]
    data = conn.execute("SHOW data_directory").fetchone()[0]
with open(os.path.join(data, "postmaster.pid")) as pid_file:
    postmaster = int(pid_file.readline())
with Client(address, timeout=30) as client:
    workers = client.run(os.getpid)
    directories = set(client.run(os.getcwd).values())
    scheduler = client.run_on_scheduler(os.getpid)
print(json.dumps({
    "url": url, "address": address, "one": one, "workers": sorted(workers.values()),
    "pids": [postmaster, scheduler, *workers.values()], "dirs": [os.path.dirname(data), *directories],
}), flush=True)
if sys.argv[1] == "wait":
    signal.pause()
sys.exit(int(sys.argv[1]))
"""


def launch(*command: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m tests.services -- COMMAND``, in a session of its own (no terminal), output piped."""
    base = dict(os.environ if env is None else env)
    for name in (POSTGRES_ENV, SCHEDULER_ENV):
        base.pop(name, None)  # this suite may itself run under the launcher
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.services", "--", *command],
        cwd=ROOT,
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_shell,
    )


def probe(mode: str) -> subprocess.Popen[str]:
    """The launcher running :data:`PROBE` (exit ``mode``, or ``wait``)."""
    return launch(sys.executable, "-c", PROBE, mode)


def first_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The probe's report, read as it comes (the launcher still running)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], LAUNCH_TIMEOUT_S)
    assert ready, "the probe reported nothing"
    line = process.stdout.readline()
    assert line, process.communicate(timeout=LAUNCH_TIMEOUT_S)[1]
    report: dict[str, Any] = json.loads(line)
    return report


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_all_gone(report: dict[str, Any]) -> None:
    """The server, the scheduler and the workers have exited; their directories are removed."""
    # The postmaster removes its pid file (what pg_ctl stop waits for) just before it exits.
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while any(running(pid) for pid in report["pids"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in report["pids"] if running(pid)] == []
    assert [d for d in report["dirs"] if Path(d).exists()] == []


def check_services(report: dict[str, Any]) -> None:
    """The command saw both services, on loopback, and could use them."""
    assert report["one"] == 1 and report["url"].startswith("postgresql://postgres@127.0.0.1:")
    assert report["address"].startswith("tcp://127.0.0.1:") and len(report["workers"]) == 2
    assert all(Path(d).name.startswith(("leakrig-pg-", "leakrig-dask-")) for d in report["dirs"])


def test_the_command_uses_both_services_and_its_failure_is_the_exit_code() -> None:
    process = probe("7")
    out, err = process.communicate(timeout=LAUNCH_TIMEOUT_S)
    assert process.returncode == 7, err
    report = json.loads(out)
    check_services(report)
    assert_all_gone(report)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_to_the_launcher_stops_the_command_and_the_services(sig: signal.Signals) -> None:
    process = probe("wait")
    try:
        report = first_line(process)
        check_services(report)
        process.send_signal(sig)
        _, err = process.communicate(timeout=LAUNCH_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + sig, err  # the command's end, as a shell reports it
    assert_all_gone(report)


def server_being_started(launcher: subprocess.Popen[str]) -> Path:
    """The directory of the server ``launcher`` is starting, once its ``pg_ctl start`` runs.

    That is the moment to cut in: a ``pg_ctl start`` killed half-way leaves a server behind.
    """
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    while time.monotonic() < deadline and launcher.poll() is None:
        for child in Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split():
            with contextlib.suppress(OSError):  # it may have ended since
                argv = Path(f"/proc/{child}/cmdline").read_text().split("\0")
                if "start" in argv and "-D" in argv and "leakrig-pg-" in argv[argv.index("-D") + 1]:
                    return Path(argv[argv.index("-D") + 1]).parent
        time.sleep(0.01)
    raise AssertionError(f"the launcher started no PostgreSQL (exit {launcher.poll()})")


def processes_in(directory: Path) -> list[str]:
    """The command lines of the processes naming ``directory`` in theirs (the server's, initdb's)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            argv = cmdline.read_text().replace("\0", " ")
            if str(directory) in argv and running(int(cmdline.parent.name)):
                found.append(argv)
    return found


def test_a_signal_while_the_services_start_stops_them_and_runs_nothing() -> None:
    process = launch(sys.executable, "-c", "print('ran')")
    try:
        directory = server_being_started(process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=LAUNCH_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM and out == ""
    assert "SIGTERM while the services started" in err, err
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while processes_in(directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(directory) == [] and not directory.exists()


def test_a_service_that_does_not_start_is_one_line_with_its_log() -> None:
    # A real scheduler, configured to preload a module that does not exist: it exits at start.
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__PRELOAD": '["leakrig_no_such_module"]'}
    process = launch(sys.executable, "-c", "print('ran')", env=env)
    out, err = process.communicate(timeout=LAUNCH_TIMEOUT_S)
    assert process.returncode == 3 and out == ""
    first, *rest = err.splitlines()
    assert first.startswith("python -m tests.services: the dask scheduler exited"), err
    assert "leakrig_no_such_module" in "\n".join(rest)


@pytest.mark.parametrize(
    ("command", "code", "says"),
    [([], 2, "usage: python -m tests.services"), (["leakrig-no-such-command"], 127, "command not found")],
)
def test_no_command_or_an_unknown_one_is_refused_in_one_line(
    command: list[str], code: int, says: str
) -> None:
    process = launch(*command)
    out, err = process.communicate(timeout=LAUNCH_TIMEOUT_S)
    assert process.returncode == code and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
