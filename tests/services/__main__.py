"""``python -m tests.services [--] COMMAND [ARG...]``: COMMAND with a PostgreSQL server and a Dask cluster.

Starts one throwaway PostgreSQL server (:func:`~tests.services.postgres_server`) and one
dask.distributed scheduler with two workers (:func:`~tests.services.dask_cluster`), runs COMMAND
with their addresses in ``$LEAKRIG_TEST_POSTGRES`` and ``$LEAKRIG_TEST_SCHEDULER``, and stops
both when it ends, whichever way (its exit, Ctrl-C, SIGTERM or SIGHUP to this process), removing
their temporary directories. Exit code: COMMAND's (128 + N when a signal N ended it, as a shell
says); 2 for no command, 127 when it is not found, 3 when a service does not start (one line, then
the end of the service's log on stderr), 128 + N when signal N arrived before COMMAND ran.

A signal while the services start stops them once the step under way is over (each is bounded).
Signals while COMMAND runs: SIGTERM and SIGHUP are passed on to it (and it is killed if it has
not exited 30 s later). A Ctrl-C at the terminal reaches COMMAND by itself (it is in this
process's foreground group, the services are not), so SIGINT is passed on only when it did not
come that way, or when it is the second one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from rig.config import CONFIG_HOME_ENV, DATA_DIR_ENV
from rig.record.integrity import KEY_DIR_ENV
from rig.record.trust import TRUSTED_KEYS_ENV
from tests.services import POSTGRES_ENV, SCHEDULER_ENV, ServiceError, dask_cluster, postgres_server

PROG = "python -m tests.services"
USAGE = f"usage: {PROG} [--] COMMAND [ARG...]"
# How long COMMAND has to exit after a SIGTERM or SIGHUP was passed on, before it is killed.
KILL_AFTER_S = 30.0
POLL_S = 0.2
# The workers run the tests' code, not the user's setup: their own empty configuration, keys and
# trust store (what tests/conftest.py gives each test process), and no default data directory.
ISOLATED_DIRS = (CONFIG_HOME_ENV, KEY_DIR_ENV, TRUSTED_KEYS_ENV)
UNSET = (DATA_DIR_ENV, POSTGRES_ENV, SCHEDULER_ENV)


class StartInterruptedError(Exception):
    """A signal arrived while the services were starting: stop what has started, then exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _from_the_terminal() -> bool:
    """Whether this process's group is its terminal's foreground group (so a Ctrl-C reached it all)."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal: the signal was sent to this process
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


class Signals:
    """SIGINT, SIGTERM and SIGHUP: held while the services start, then passed on to the command.

    A signal that comes while a service starts is held until that step is over (each is bounded:
    60 s at most), then the services started so far are stopped: cut short, ``pg_ctl start``
    would leave a server running that nobody stops.
    """

    HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.kill_at: float | None = None
        self.pending: int | None = None
        self._interrupts = 0
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.HANDLED}

    def restore(self) -> None:
        """Put back the handlers found."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def check(self) -> None:
        """Raise :class:`StartInterruptedError` if a signal came while the services started."""
        if self.pending is not None:
            self.stopping = True
            raise StartInterruptedError(self.pending)

    def started(self, child: subprocess.Popen[bytes]) -> None:
        """``child`` runs the command: signals go to it now (one that came as it was started, too)."""
        self.child = child
        if self.pending is not None:
            self._forward(self.pending, always=True)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            return  # already on the way out: the services' stop is bounded, let it finish
        if self.child is None:
            self.pending = self.pending or signum
            return
        self._forward(signum)

    def _forward(self, signum: int, always: bool = False) -> None:
        assert self.child is not None
        if signum == signal.SIGINT:
            self._interrupts += 1
            if not always and self._interrupts == 1 and _from_the_terminal():
                return  # the command had it from the terminal as well
        elif self.kill_at is None:
            self.kill_at = time.monotonic() + KILL_AFTER_S
        with contextlib.suppress(ProcessLookupError):
            self.child.send_signal(signum)


def _wait(child: subprocess.Popen[bytes], signals: Signals) -> int:
    """``child``'s exit code, as a shell gives it; killed when it outlives a passed-on SIGTERM by 30 s."""
    while True:
        try:
            code = child.wait(timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            if signals.kill_at is not None and time.monotonic() > signals.kill_at:
                child.kill()
    return 128 - code if code < 0 else code


def services_env(directory: Path) -> dict[str, str]:
    """This process's environment for the Dask workers, with configuration and keys of their own."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    for name in ISOLATED_DIRS:
        path = directory / name.lower()
        path.mkdir()
        env[name] = str(path)
    return env


def run(command: Sequence[str]) -> int:
    """Start the services, run ``command`` with their addresses, stop them; the exit code."""
    signals = Signals()
    try:
        with contextlib.ExitStack() as stack:
            postgres = stack.enter_context(postgres_server())
            signals.check()
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leakrig-dask-")))
            scheduler = stack.enter_context(dask_cluster(directory, services_env(directory)))
            signals.check()
            env = {**os.environ, POSTGRES_ENV: postgres, SCHEDULER_ENV: scheduler}
            child = subprocess.Popen(list(command), env=env)
            signals.started(child)
            try:
                return _wait(child, signals)
            finally:
                signals.stopping = True
    except ServiceError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 3
    except StartInterruptedError as exc:
        print(f"{PROG}: {exc} while the services started; stopped them", file=sys.stderr)
        return 128 + exc.signum
    finally:
        signals.restore()


def main(argv: Sequence[str] | None = None) -> int:
    """The launcher's entry point; its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__ if args else USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if shutil.which(args[0]) is None:
        print(f"{PROG}: {args[0]}: command not found", file=sys.stderr)
        return 127
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
