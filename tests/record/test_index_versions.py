"""The local run index's schema version (``PRAGMA user_version``) and its migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rig.record.run_store import INDEX_VERSION, DamagedRecordError, RunStore

_TODAYS_TABLE = (
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, procedure TEXT, bench TEXT, started TEXT, ended TEXT,"
    " status TEXT, verdict TEXT, reason TEXT, run_dir TEXT, pid INTEGER);"
    " INSERT INTO runs VALUES ('r1', 'p', 'b', '2026-01-01T00:00:00+0000', '2026-01-01T00:10:00+0000',"
    " 'passed', 'PASS', 'ok', '/runs/r1', 1)"
)


def _index(data_dir: Path, script: str) -> Path:
    data_dir.mkdir()
    path = data_dir / "runs.sqlite"
    db = sqlite3.connect(path)
    with db:
        db.executescript(script)
    db.close()
    return path


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_an_unversioned_index_is_version_1_and_migrated_by_a_writer(tmp_path: Path) -> None:
    path = _index(tmp_path / "data", _TODAYS_TABLE)
    store = RunStore(tmp_path / "data")
    assert [r.run_id for r in store.runs()] == ["r1"]
    assert _user_version(path) == 0  # reading never writes
    store.prepare()
    assert _user_version(path) == INDEX_VERSION == 1
    assert [(r.run_id, r.verdict) for r in store.runs()] == [("r1", "PASS")]


def test_a_new_index_has_the_current_version(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    store.prepare()
    assert _user_version(tmp_path / "data" / "runs.sqlite") == INDEX_VERSION
    assert store.runs() == []


def test_an_index_of_a_newer_rig_is_one_line(tmp_path: Path) -> None:
    path = _index(tmp_path / "data", _TODAYS_TABLE + f"; PRAGMA user_version = {INDEX_VERSION + 1}")
    before = path.read_bytes()
    store = RunStore(tmp_path / "data")
    for act in (store.runs, store.prepare):
        with pytest.raises(DamagedRecordError, match="not a run index of this version") as raised:
            act()
        assert "\n" not in str(raised.value) and f"version {INDEX_VERSION + 1}" in str(raised.value)
    assert path.read_bytes() == before
