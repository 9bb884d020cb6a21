"""``rig store push`` and ``rig runs --store`` against a real PostgreSQL server: two benches, one store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from rig.record.integrity import seal_run
from rig.record.run_store import RunStore
from rig.record.trust import TRUSTED_KEYS_ENV
from tests.store.conftest import Benches, count, rig


def _run_id(run_dir: Path) -> str:
    return str(json.loads((run_dir / "run.json").read_text())["run_id"])


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.usefixtures("trusting_both")
def test_two_benches_push_into_one_store_and_runs_lists_both(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str
) -> None:
    code, out, err = rig(
        capsys, "store", "push", "--all", "--data-dir", str(benches.a_data), "--store", store_url
    )
    assert code == 0, err
    assert out.splitlines()[-1] == "2 stored, 0 already present, 0 refused, 0 skipped"
    code, out, err = rig(capsys, "store", "push", *map(str, benches.b_runs), "--store", store_url)
    assert code == 0, err
    code, out, err = rig(capsys, "runs", "--store", store_url, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert {r["bench"] for r in listed} == {"vacuum_chamber_mockup", "vgc_chamber"}
    assert [r["run_id"] for r in listed] == sorted(
        map(_run_id, (*benches.a_runs, *benches.b_runs)), reverse=True
    )
    code, out, err = rig(capsys, "runs", "--store", store_url)  # plain columns, as piped
    assert code == 0 and all(_run_id(d) in out for d in (*benches.a_runs, *benches.b_runs)), err
    # The same fields, with the same values, as the bench's own `rig runs --json`.
    code, out, err = rig(capsys, "runs", "--data-dir", str(benches.a_data), "--json")
    local = json.loads(out)
    assert [r for r in listed if r["bench"] == "vacuum_chamber_mockup"] == local
    files = count(store_url, "files")
    assert files == sum(len(list(d.iterdir())) for d in (*benches.a_runs, *benches.b_runs))

    # Again: everything is already there, nothing new is stored.
    code, out, err = rig(
        capsys, "store", "push", "--all", "--data-dir", str(benches.a_data), "--store", store_url
    )
    assert code == 0, err
    assert out.splitlines()[-1] == "0 stored, 2 already present, 0 refused, 0 skipped"
    code, out, err = rig(capsys, "store", "push", *map(str, benches.a_runs), "--store", store_url)
    assert (code, out.splitlines()[-1]) == (0, "0 stored, 2 already present, 0 refused, 0 skipped")
    assert (count(store_url, "runs"), count(store_url, "files")) == (3, files)
    assert count(store_url, "measurements") == 3


@pytest.mark.usefixtures("trusting_both")
def test_an_interrupted_push_resumes(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str
) -> None:
    rig(capsys, "runs", "--store", store_url, "--json")  # makes the schema
    newer = _run_id(benches.a_runs[1])
    with psycopg.connect(store_url, autocommit=True) as conn:
        # The server fails in the middle of the second run's transaction (its files), as a full disk would.
        conn.execute(
            "CREATE FUNCTION fail() RETURNS trigger AS $$ BEGIN IF NEW.run_id = '" + newer + "'"
            " THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        conn.execute("CREATE TRIGGER fail BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION fail()")
    argv = ("store", "push", "--all", "--data-dir", str(benches.a_data), "--store", store_url)
    code, out, err = rig(capsys, *argv)
    assert code == 2
    assert "disk full" in _one_line(err)
    assert out == f"stored {_run_id(benches.a_runs[0])}\n"
    # Nothing of the run cut short is stored: not its row, not its measurements, not a file.
    assert [count(store_url, t, newer) for t in ("runs", "measurements", "files")] == [0, 0, 0]
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER fail ON files")
    code, out, err = rig(capsys, *argv)
    assert (code, out.splitlines()) == (
        0,
        [f"stored {newer}", "1 stored, 1 already present, 0 refused, 0 skipped"],
    )


@pytest.mark.usefixtures("trusting_both")
def test_a_tampered_record_is_refused_and_not_stored(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(benches.a_runs[0], tampered)
    results = tampered / "results.json"
    data = bytearray(results.read_bytes())
    data[data.index(b'"PASS"') + 2] ^= 0x01  # "PASS" becomes "PBSS"
    results.write_bytes(bytes(data))
    code, out, err = rig(
        capsys, "store", "push", str(tampered), *map(str, benches.b_runs), "--store", store_url
    )
    assert code == 1
    line = _one_line(err)
    assert str(tampered) in line and "altered: results.json" in line
    assert out.splitlines()[-1] == "1 stored, 0 already present, 1 refused, 0 skipped"
    assert count(store_url, "runs", _run_id(tampered)) == 0
    assert count(store_url, "files", _run_id(tampered)) == 0


def test_an_untrusted_key_is_refused(
    capsys: pytest.CaptureFixture[str],
    benches: Benches,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = tmp_path / "no_keys"
    empty.mkdir()
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(empty))
    code, _out, err = rig(capsys, "store", "push", str(benches.b_runs[0]), "--store", store_url)
    assert code == 1
    assert "untrusted key" in _one_line(err)
    assert count(store_url, "runs") == 0


def test_another_record_under_a_stored_run_id_is_refused(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, tmp_path: Path
) -> None:
    original = benches.a_runs[0]
    code, _, err = rig(capsys, "store", "push", str(original), "--store", store_url)
    assert code == 0, err
    # The same run id, altered and sealed again with a trusted key: it verifies, but is another record.
    other = tmp_path / "other"
    shutil.copytree(original, other)
    (other / "events.jsonl").write_bytes((other / "events.jsonl").read_bytes() + b'{"kind": "note"}\n')
    seal_run(other)
    code, _out, err = rig(capsys, "store", "push", str(other), "--store", store_url)
    assert code == 1
    assert "not overwritten" in _one_line(err)
    with psycopg.connect(store_url) as conn:
        row = conn.execute(
            "SELECT content FROM files WHERE run_id = %s AND path = 'events.jsonl'", (_run_id(original),)
        ).fetchone()
    assert row is not None and bytes(row[0]) == (original / "events.jsonl").read_bytes()


def test_unfinished_runs_are_skipped_with_a_note(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    writer = RunStore(tmp_path / "data").create("soak", "bench", ["p"], {}, {"procedure.yaml": "x: 1\n"})
    code, _out, err = rig(
        capsys, "store", "push", "--all", "--data-dir", str(tmp_path / "data"), "--store", store_url
    )
    assert code == 0, err
    assert f"{writer.run_id}: running, not finished: skipped" in _one_line(err)
    code, _out, err = rig(
        capsys, "store", "push", str(tmp_path / "data" / "runs" / writer.run_id), "--store", store_url
    )
    assert code == 0 and "skipped" in _one_line(err)
    assert count(store_url, "runs") == 0


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/nothing", "no such=url"])
def test_a_store_that_cannot_be_reached_is_one_line(
    capsys: pytest.CaptureFixture[str], benches: Benches, url: str
) -> None:
    for argv in (
        ("store", "push", "--all", "--data-dir", str(benches.a_data)),
        ("store", "pull", "x", "--to", "/nonexistent"),
        ("runs", "--json"),
    ):
        code, out, err = rig(capsys, *argv, "--store", url)
        assert (code, out) == (2, "")
        assert "lab store" in _one_line(err)


@pytest.mark.usefixtures("trusting_both")
def test_a_long_backlog_reports_its_progress_on_stderr(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rig.store import push

    # Two runs stand for a long backlog: the threshold is lowered rather than a hundred runs recorded.
    monkeypatch.setattr(push, "PROGRESS_FROM", 2)
    monkeypatch.setattr(push, "PROGRESS_EVERY", 1)
    code, out, err = rig(
        capsys, "store", "push", "--all", "--data-dir", str(benches.a_data), "--store", store_url
    )
    assert code == 0, err
    assert err.splitlines() == [
        "rig store: 1/2 runs of the backlog pushed",
        "rig store: 2/2 runs of the backlog pushed",
    ]
    assert out.splitlines()[-1] == "2 stored, 0 already present, 0 refused, 0 skipped"


def test_a_directory_that_is_no_run_is_refused_before_it_is_read(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    (tmp_path / "big").write_bytes(b"x" * 1000)
    code, out, err = rig(capsys, "store", "push", str(tmp_path), "--store", store_url)
    assert code == 1 and "not a run directory (no run.json)" in err
    assert out.splitlines()[-1] == "0 stored, 0 already present, 1 refused, 0 skipped"
