"""A throwaway PostgreSQL server for the lab store's tests, and two simulated benches' records.

The server is Debian's ``postgresql`` (``initdb`` and ``pg_ctl`` on PATH or in
``/usr/lib/postgresql/*/bin``), initialised in a temporary directory, listening on a free port of
127.0.0.1 (its socket in that directory too), trust authentication, stopped at the end. ``initdb``
refuses to run as root, so as root (here and in CI) the server runs as the ``postgres`` user.
Each test gets a database of its own on it.
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from rig.cli import main
from rig.record.integrity import KEY_DIR_ENV, load_or_create_key, public_key_hex
from rig.record.trust import TRUSTED_KEYS_ENV, write_trusted_key
from tests.commands.cli_runs import rig_run_sim_here

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
VGC_BENCH = ROOT / "procedures" / "benches" / "vgc_chamber.yaml"


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major, reverse=True)
    return candidates[0] if candidates else None


def _major(path: str) -> int:
    version = Path(path).parts[-3]
    return int(version) if version.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a fresh PostgreSQL server's ``postgres`` database, as its superuser ``postgres``."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            "PostgreSQL's initdb/pg_ctl not found (on PATH or in /usr/lib/postgresql/*/bin):"
            " apt-get install postgresql",
            pytrace=False,
        )
    # In /tmp rather than pytest's temporary directory: that one's parents are private to root,
    # and the server runs as another user.
    base = Path(tempfile.mkdtemp(prefix="leakrig-pg-"))
    as_server: list[str] = []
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(base, server_user.pw_uid, server_user.pw_gid)
        as_server = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def server(*argv: str) -> None:
        done = subprocess.run(
            [*as_server, *argv], cwd=base, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{argv[0]}: {done.stderr or done.stdout}"

    server(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
    options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c full_page_writes=off"
    server(pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "-t", "60", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            server(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def store_url(pg_server: str) -> str:
    """A database of this test's own on the server, empty (no lab store in it yet)."""
    name = f"store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return pg_server.rsplit("/", 1)[0] + "/" + name


@dataclass(frozen=True)
class Benches:
    """Two simulated benches' data directories and runs (A signed with the session's key, B its own)."""

    a_data: Path
    a_runs: tuple[Path, ...]  # oldest first
    b_data: Path
    b_runs: tuple[Path, ...]
    b_public_key: str


@pytest.fixture(scope="session")
def benches(tmp_path_factory: pytest.TempPathFactory) -> Benches:
    """Bench A (the vacuum-chamber mock-up: two pressure-decay runs of part P-100, serials S-1 and S-2)
    and bench B (the VGC chamber: one run, signed with another key), each in its own data directory."""
    a_data, b_data = tmp_path_factory.mktemp("bench_a"), tmp_path_factory.mktemp("bench_b")
    a_runs = tuple(
        rig_run_sim_here(PRESSURE_DECAY, a_data, "--part", "P-100", "--serial", serial)[1]
        for serial in ("S-1", "S-2")
    )
    b_keys = tmp_path_factory.mktemp("bench_b_keys")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_DIR_ENV, str(b_keys))
        b_run = rig_run_sim_here(PRESSURE_DECAY, b_data, "--bench", str(VGC_BENCH), "--seed", "7")[1]
    return Benches(a_data, a_runs, b_data, (b_run,), public_key_hex(load_or_create_key(b_keys)))


@pytest.fixture
def trusting_both(benches: Benches, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trust store holding bench B's key (bench A's is the rig's own); its directory."""
    trust_dir = tmp_path / "trusted"
    write_trusted_key(benches.b_public_key, "bench-b", trust_dir)
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(trust_dir))
    return trust_dir


def rig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def count(url: str, table: str, run_id: str | None = None) -> int:
    """Rows of ``table`` in the store (of ``run_id`` only, if given)."""
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    params: tuple[str, ...] = ()
    if run_id is not None:
        query = sql.SQL("SELECT count(*) FROM {} WHERE run_id = %s").format(sql.Identifier(table))
        params = (run_id,)
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])
