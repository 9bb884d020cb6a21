"""The lab store as a careless or hostile user meets it: an empty URL, filters that cannot match,
run ids that are paths, a run directory holding what no record holds."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from rig.record.integrity import seal_run
from rig.store.connection import STORE_ENV
from tests.commands.cli_runs import rig_run_sim_here
from tests.store.conftest import PRESSURE_DECAY, ROOT, Benches, count, rig


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_an_empty_store_url_opens_no_database(
    capsys: pytest.CaptureFixture[str], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq's defaults lead to a real database here: an empty URL taken as "every default" (what
    # `--store "$LEAKRIG_STORE"` gives with the variable unset) would open it and list its runs.
    parts = conninfo.conninfo_to_dict(store_url)
    for key, value in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "user"), ("PGDATABASE", "dbname")):
        monkeypatch.setenv(key, str(parts[value]))
    for argv in (
        ("runs", "--store", ""),
        ("runs", "--store", " ", "--json"),
        ("trend", "--procedure", "pressure_decay", "--measurement", "decay", "--store", ""),
    ):
        code, out, err = rig(capsys, *argv)
        assert (code, out) == (2, ""), err
        assert "no lab store" in _one_line(err)
    monkeypatch.setenv(STORE_ENV, "  ")
    code, out, err = rig(capsys, "store", "pull", "x", "--to", "/nonexistent")
    assert (code, out) == (2, "") and "no lab store" in _one_line(err)
    with pytest.raises(psycopg.errors.UndefinedTable):  # the database was not opened as a store
        count(store_url, "schema_version")


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        (("--verdict", "maybe"), "--verdict 'maybe': not a verdict (one of PASS, FAIL,"),
        (("--since", "2026-12-07", "--until", "2026-12-06"), "--since is after --until"),
    ],
)
def test_a_filter_that_cannot_match_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], benches: Benches, filters: tuple[str, ...], says: str
) -> None:
    code, out, err = rig(capsys, "runs", "--data-dir", str(benches.a_data), *filters)
    assert (code, out) == (2, "")
    assert says in _one_line(err)


@pytest.mark.usefixtures("trusting_both")
def test_until_the_last_day_and_until_a_runs_own_start(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str
) -> None:
    code, _, err = rig(
        capsys, "store", "push", "--all", "--data-dir", str(benches.a_data), "--store", store_url
    )
    assert code == 0, err
    first = json.loads((benches.a_runs[0] / "run.json").read_text())
    both = {"store": ("--store", store_url), "local": ("--data-dir", str(benches.a_data))}
    for where in both.values():
        # The last day there is has no next day to end at (was: an internal error, exit 70).
        code, out, err = rig(capsys, "runs", *where, "--until", "9999-12-31", "--json")
        assert code == 0, err
        assert len(json.loads(out)) == len(benches.a_runs)
        # Both ends are included: a run started at T is listed by --since T --until T.
        code, out, err = rig(
            capsys, "runs", *where, "--since", first["started"], "--until", first["started"], "--json"
        )
        assert code == 0, err
        assert [r["run_id"] for r in json.loads(out)] == [first["run_id"]]


@pytest.mark.parametrize("run_id", ["", ".", "..", "../escaped", "a/b"])
def test_a_run_id_that_is_a_path_is_refused(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path, run_id: str
) -> None:
    to = tmp_path / "to" / "inner"
    code, out, err = rig(capsys, "store", "pull", run_id, "--to", str(to), "--store", store_url)
    assert (code, out) == (2, "")
    assert _one_line(err) == f"rig store: error: {run_id!r}: not a run id (`rig runs --store URL` lists them)"
    assert sorted(tmp_path.rglob("*")) == []


@pytest.mark.usefixtures("trusting_both")
def test_a_refusal_for_a_file_inside_names_the_run(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, tmp_path: Path
) -> None:
    fifo_run, link_run = tmp_path / "fifo", tmp_path / "link"
    shutil.copytree(benches.a_runs[0], fifo_run)
    shutil.copytree(benches.a_runs[1], link_run)
    os.mkfifo(fifo_run / "pipe")
    (link_run / "passwd").symlink_to("/etc/passwd")
    code, out, err = rig(capsys, "store", "push", str(fifo_run), str(link_run), "--store", store_url)
    assert code == 1 and "Traceback" not in err
    assert err.splitlines() == [
        f"rig store: {fifo_run}: refused, pipe: not a regular file",
        f"rig store: {link_run}: refused, passwd: not a regular file",
    ]
    assert out.splitlines()[-1] == "0 stored, 0 already present, 2 refused, 0 skipped"
    assert count(store_url, "runs") == 0


def _memory_capped() -> None:
    """A ``preexec_fn``: 1 GiB of data for the child, less than the stray file below."""
    resource.setrlimit(resource.RLIMIT_DATA, (1 << 30, 1 << 30))


@pytest.mark.usefixtures("trusting_both")
def test_a_huge_stray_file_is_refused_without_being_read(
    benches: Benches, store_url: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(benches.a_runs[0], run)
    with (run / "disk.img").open("wb") as image:  # sparse: 2 GiB that take no room on disk
        image.truncate(2 << 30)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "rig", "store", "push", str(run), "--store", store_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=_memory_capped,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert _one_line(done.stderr) == f"rig store: {run}: refused, it does not verify: added: disk.img"
    assert count(store_url, "runs") == 0


@pytest.mark.usefixtures("trusting_both")
def test_a_trusted_record_whose_run_id_is_a_path_is_refused(
    capsys: pytest.CaptureFixture[str], benches: Benches, store_url: str, tmp_path: Path
) -> None:
    # Signed with a trusted key, so it verifies; but `rig store pull` would write it to DIR/../../x.
    run = tmp_path / "run"
    shutil.copytree(benches.a_runs[0], run)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "run_id": "../../x"}))
    (run / "manifest.json").unlink()
    (run / "manifest.sig").unlink()
    seal_run(run)
    code, out, err = rig(capsys, "store", "push", str(run), "--store", store_url)
    assert code == 1
    assert _one_line(err) == f"rig store: {run}: refused, its run id '../../x' is a path, not a name"
    assert out.splitlines()[-1] == "0 stored, 0 already present, 1 refused, 0 skipped"
    assert count(store_url, "runs") == 0


def test_push_all_from_a_data_directory_that_is_not_there_is_one_line(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "mistyped"
    code, out, err = rig(capsys, "store", "push", "--all", "--data-dir", str(missing), "--store", store_url)
    assert (code, out) == (2, "")
    assert _one_line(err) == f"rig store: error: --data-dir {missing}: no such directory"
    assert not missing.exists()
    # An empty data directory (a new bench) has nothing to push, and says so.
    code, out, err = rig(capsys, "store", "push", "--all", "--data-dir", str(tmp_path), "--store", store_url)
    assert (code, out) == (0, "0 stored, 0 already present, 0 refused, 0 skipped\n"), err


@pytest.mark.parametrize(
    ("tables", "says"),
    [
        ("CREATE TABLE runs (id integer)", 'not a lab store\'s (relation "runs" already exists)'),
        ("CREATE TABLE schema_version (v text)", 'not a lab store\'s (column "version" does not exist)'),
        (
            "CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz);"
            " INSERT INTO schema_version VALUES (-5, now())",
            "has schema version -5, which no rig writes",
        ),
    ],
)
def test_a_database_that_is_another_applications_is_one_line(
    capsys: pytest.CaptureFixture[str], store_url: str, tables: str, says: str
) -> None:
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute(tables)
    code, out, err = rig(capsys, "runs", "--store", store_url)
    assert (code, out) == (2, "")
    assert says in _one_line(err)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://leakrig:s3cr%zzet@127.0.0.1:1/leakrig",  # a bad %-escape in the password
        "postgresql://leakrig:s3cret@[::1/leakrig",  # an unfinished IPv6 host: libpq quotes the URL
    ],
)
def test_a_malformed_url_never_shows_its_password(capsys: pytest.CaptureFixture[str], url: str) -> None:
    for argv in (("runs",), ("store", "pull", "x", "--to", "/nonexistent")):
        code, out, err = rig(capsys, *argv, "--store", url)
        assert (code, out) == (2, "")
        line = _one_line(err)
        assert "cannot connect" in line and "***" in line
        assert "s3cr" not in line


@pytest.mark.usefixtures("trusting_both")
def test_runs_recorded_with_a_relative_data_dir_are_found_from_anywhere(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_id = rig_run_sim_here(PRESSURE_DECAY, Path("data"))[0]["run_id"]  # the index keeps data/runs/ID
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = str(tmp_path / "data")
    code, out, err = rig(capsys, "store", "push", "--all", "--data-dir", data, "--store", store_url)
    assert (code, out) == (0, f"stored {run_id}\n1 stored, 0 already present, 0 refused, 0 skipped\n"), err
    code, out, err = rig(
        capsys,
        "trend",
        "--procedure",
        "pressure_decay",
        "--measurement",
        "decay",
        "--data-dir",
        data,
        "--json",
    )
    assert code == 0, err
    assert [r["run_id"] for r in json.loads(out)["runs"]] == [run_id]
