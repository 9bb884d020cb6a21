"""Reading the lab store: pull-back, search filters, a measurement's history, schema versions."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from rig.record.run_record import RunRecord
from rig.report.certificate_view import _tested
from rig.store.connection import open_store
from rig.store.query import StoreHistory
from rig.store.schema import LATEST, migrate, version
from tests.store.conftest import Benches, count, rig


def _run_id(run_dir: Path) -> str:
    return str(json.loads((run_dir / "run.json").read_text())["run_id"])


@pytest.fixture
def full_store(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, trusting_both: Path
) -> str:
    """The store with both benches' runs pushed."""
    for argv in (("--all", "--data-dir", str(benches.a_data)), tuple(map(str, benches.b_runs))):
        code, _, err = rig(capsys, "store", "push", *argv, "--store", store_url)
        assert code == 0, err
    return store_url


def test_a_pulled_record_is_byte_identical_and_verifies(
    capsys: pytest.CaptureFixture[str], benches: Benches, full_store: str, tmp_path: Path
) -> None:
    original = benches.b_runs[0]
    run_id = _run_id(original)
    code, out, err = rig(
        capsys, "store", "pull", run_id, "--to", str(tmp_path / "pulled"), "--store", full_store
    )
    assert code == 0, err
    pulled = tmp_path / "pulled" / run_id
    names = sorted(p.name for p in original.iterdir())
    assert sorted(p.name for p in pulled.iterdir()) == names
    assert all((pulled / n).read_bytes() == (original / n).read_bytes() for n in names)
    code, out, err = rig(capsys, "verify", str(pulled))
    assert (code, out.splitlines()[0]) == (0, "OK")
    # Never over an existing directory; an unknown run is one line.
    code, out, err = rig(
        capsys, "store", "pull", run_id, "--to", str(tmp_path / "pulled"), "--store", full_store
    )
    assert code == 2 and "already exists" in err
    code, out, err = rig(capsys, "store", "pull", "nope", "--to", str(tmp_path), "--store", full_store)
    assert code == 2 and "no run 'nope'" in err


@pytest.mark.parametrize("where", ["store", "local"])
def test_the_search_filters(
    capsys: pytest.CaptureFixture[str], benches: Benches, full_store: str, where: str
) -> None:
    a1, a2 = map(_run_id, benches.a_runs)
    b1 = _run_id(benches.b_runs[0])
    source = ("--store", full_store) if where == "store" else ("--data-dir", str(benches.a_data))
    everything = {a1, a2, b1} if where == "store" else {a1, a2}
    day = json.loads((benches.a_runs[0] / "run.json").read_text())["started"][:10]
    cases: list[tuple[tuple[str, ...], set[str]]] = [
        ((), everything),
        (("--bench", "vgc_chamber"), everything & {b1}),
        (("--bench", "vacuum_chamber_mockup"), {a1, a2}),
        (("--procedure", "pressure_decay"), everything),
        (("--procedure", "rate_of_rise"), set()),
        (("--part", "P-100"), {a1, a2}),
        (("--part", "P-100", "--serial", "S-2"), {a2}),
        (("--verdict", "pass"), everything),
        (("--verdict", "FAIL"), set()),
        (("--since", day, "--until", day), everything),
        (("--until", "2000-01-01"), set()),
        (("--since", "2999-01-01"), set()),
    ]
    for filters, expected in cases:
        code, out, err = rig(capsys, "runs", *source, *filters, "--json")
        assert code == 0, err
        assert {r["run_id"] for r in json.loads(out)} == expected, filters
    code, out, err = rig(capsys, "runs", *source, "--since", "yesterday")
    assert code == 2 and "not a date" in err


def test_store_history_is_oldest_first_with_value_plus_or_minus_u(benches: Benches, full_store: str) -> None:
    points = StoreHistory(full_store).history("pressure_decay", "decay")
    runs = sorted(
        (*benches.a_runs, *benches.b_runs), key=lambda d: json.loads((d / "run.json").read_text())["started"]
    )
    assert [p.run_id for p in points] == [_run_id(d) for d in runs]
    for point, run_dir in zip(points, runs, strict=True):
        decay = json.loads((run_dir / "results.json").read_text())["measurements"]["decay"]
        assert point.value == decay["value"] and point.limit == decay["limit"]
        assert point.ci95_low == pytest.approx(decay["value"] - 2 * decay["stderr"])
        assert point.ci95_high == pytest.approx(decay["value"] + 2 * decay["stderr"])
        # The unit the procedure wrote its limit in, as the local history gives it (values in Pa·m³/s).
        assert (point.unit, point.outcome) == (decay["written_unit"], "PASS") == ("sccm", "PASS")
    assert {p.bench for p in points} == {"vacuum_chamber_mockup", "vgc_chamber"}
    assert StoreHistory(full_store).history("pressure_decay", "no_such") == []


def test_part_and_serial_are_recorded_stored_and_certified(benches: Benches, full_store: str) -> None:
    run_dir = benches.a_runs[1]
    assert json.loads((run_dir / "run.json").read_text())["article"] == {"part": "P-100", "serial": "S-2"}
    with psycopg.connect(full_store) as conn:
        row = conn.execute("SELECT part, serial FROM runs WHERE run_id = %s", (_run_id(run_dir),)).fetchone()
    assert row == ("P-100", "S-2")
    facts = {f.label: f.value for f in _tested(RunRecord.load(run_dir), _run_id(run_dir))}
    assert (facts["part number"], facts["serial number"]) == ("P-100", "S-2")
    facts = {f.label: f.value for f in _tested(RunRecord.load(benches.b_runs[0]), "b")}
    assert "part number" not in facts


def test_a_version_1_store_is_migrated_to_the_current_version(store_url: str) -> None:
    with psycopg.connect(store_url, autocommit=True) as conn:
        assert migrate(conn, "test", target=1) == 1
        conn.execute(
            "INSERT INTO runs (run_id, bench, procedure, started, status, run_dir, pid, signer_public_key,"
            " manifest_sha256)"
            " VALUES ('r1', 'b', 'p', '2026-01-01T00:00:00+0000', 'passed', '/x', 1, 'k', 'm')"
        )
        has_part = (
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'runs' AND column_name = 'part'"
        )
        assert conn.execute(has_part).fetchone() == (0,)
    with open_store(store_url) as conn:
        assert version(conn) == LATEST == 2
        assert conn.execute(has_part).fetchone() == (1,)
        assert conn.execute("SELECT run_id, part FROM runs").fetchall() == [("r1", None)]
        applied = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert applied == [(1,), (2,)]
    assert count(store_url, "certificates") == 0


def test_a_store_from_a_newer_rig_is_refused(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str
) -> None:
    with open_store(store_url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST + 1,))
    for argv in (("runs", "--json"), ("store", "push", "--all", "--data-dir", str(benches.a_data))):
        code, out, err = rig(capsys, *argv, "--store", store_url)
        assert (code, out) == (2, "")
        assert f"schema version {LATEST + 1}, newer than this rig's {LATEST}" in err
        assert len(err.strip().splitlines()) == 1
    assert count(store_url, "runs") == 0
