"""A throwaway PostgreSQL server: Debian's ``postgresql``, ``initdb`` in a temporary directory.

``initdb`` and ``pg_ctl`` are taken from PATH or ``/usr/lib/postgresql/*/bin`` (the newest). The
server listens on a free port of 127.0.0.1, its socket in its own directory, trust authentication,
fsync off (nothing in it outlives the tests). ``initdb`` refuses to run as root, so as root (here
and in CI) the server runs as the ``postgres`` user (``runuser``). It runs in a session of its own:
a Ctrl-C at the terminal reaches the tests, which still need the server to tear down; whoever
started it stops it (``pg_ctl stop -m immediate``) and removes the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.services.common import START_TIMEOUT_S, ServiceError, log_tail

STOP_TIMEOUT_S = 30.0


def pg_tool(name: str) -> str | None:
    """The path of PostgreSQL's program ``name`` (on PATH, else the newest in /usr/lib/postgresql)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major, reverse=True)
    return candidates[0] if candidates else None


def _major(path: str) -> int:
    version = Path(path).parts[-3]
    return int(version) if version.isdigit() else 0


def free_port() -> int:
    """A TCP port of 127.0.0.1 free just now (the server is told it; nothing else takes it in between)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; its ``postgres`` database's URL, as the superuser ``postgres``.

    Raises :class:`ServiceError` (one line, then the log's end) when it cannot be started.
    """
    initdb, pg_ctl = pg_tool("initdb"), pg_tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise ServiceError(
            "PostgreSQL's initdb/pg_ctl not found (on PATH or in /usr/lib/postgresql/*/bin):"
            " apt-get install postgresql"
        )
    # In /tmp rather than pytest's temporary directory: that one's parents are private to root,
    # and the server runs as another user.
    as_server: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceError("running as root, and no user postgres to run the server as") from None
        as_server = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="leakrig-pg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log, port = base / "data", base / "server.log", free_port()

    def server(what: str, *argv: str, timeout_s: float = START_TIMEOUT_S) -> None:
        try:
            done = subprocess.run(
                [*as_server, *argv],
                cwd=base,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise ServiceError(f"PostgreSQL: {what} took over {timeout_s:g} s" + log_tail(log)) from None
        if done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split())[-300:]
            raise ServiceError(f"PostgreSQL: {what} failed (exit {done.returncode}): {said}" + log_tail(log))

    try:
        cluster = ["-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]
        server("initdb", initdb, *cluster, "--no-sync")
        options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c full_page_writes=off"
        wait = ["-w", "-t", f"{START_TIMEOUT_S:g}"]
        server("pg_ctl start", pg_ctl, "-D", str(data), "-l", str(log), "-o", options, *wait, "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        # Also after a start cut short (Ctrl-C, a timeout): a postmaster.pid means a server may run.
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(ServiceError):
                stop = ["-D", str(data), "-m", "immediate", "-w", "stop"]
                server("pg_ctl stop", pg_ctl, *stop, timeout_s=STOP_TIMEOUT_S)
        shutil.rmtree(base, ignore_errors=True)
