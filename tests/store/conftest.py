"""A PostgreSQL server for the lab store's tests, and two simulated benches' records.

The server is the one ``python -m tests.services`` started (``$LEAKRIG_TEST_POSTGRES``), shared by
every test process of the run; without it (``pytest tests/store``) the session starts its own
throwaway server the same way (:func:`tests.services.postgres_server`). Either way each test gets
a fresh database of its own on it, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
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
from tests.services import POSTGRES_ENV, ServiceError, postgres_server

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
VGC_BENCH = ROOT / "procedures" / "benches" / "vgc_chamber.yaml"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's ``postgres`` database, as its superuser ``postgres``."""
    shared = os.environ.get(POSTGRES_ENV)
    if shared:
        yield shared
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except ServiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield url


def database_name(test: str, worker: str | None) -> str:
    """A database name unique to this test in this test process (several share one server).

    ``store_<xdist worker>_<the test's name, cut>_<random>``, in PostgreSQL's 63 bytes.
    """
    readable = re.sub(r"[^a-z0-9]+", "_", test.lower()).strip("_")[:36]
    return f"store_{worker or 'main'}_{readable}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def store_url(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test's own on the server, empty (no lab store in it yet)."""
    name = database_name(request.node.name, os.environ.get("PYTEST_XDIST_WORKER"))
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    # On a shared server the databases would pile up for the whole run; FORCE ends sessions a
    # test left open.
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


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
