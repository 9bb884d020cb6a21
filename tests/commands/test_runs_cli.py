"""Reading commands (`rig runs`, `runs show`, `verify`, `analyze`) write nothing and fail in one line.

The data directories here are real: runs recorded and sealed by the run store, one left
running by a process that has since exited, then damaged the ways a disk, a person or a
crash damage them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.cli import main
from rig.record.integrity import seal_run
from rig.record.run_store import RunStore

ROOT = Path(__file__).resolve().parents[2]
DECAY_CSV = ROOT / "procedures" / "examples"

Snapshot = dict[str, tuple[int, int, int, bytes | None]]


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root`` (itself included): its type, size, mtime and, for files, bytes."""
    if not root.exists():
        return {}
    out: Snapshot = {}
    for path in sorted([root, *root.rglob("*")]):
        st = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
        out[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, content)
    return out


def record_run(data_dir: Path, verdict: str = "PASS") -> Path:
    """A finished, sealed run with two samples; its run directory."""
    writer = RunStore(data_dir).create("decay", "mockup", ["p"], {"seed": 1}, {"procedure.yaml": "x: 1\n"})
    writer.sample(0.0, "hold", {"p": 1.0e5})
    writer.sample(1.0, "hold", {"p": 0.9e5})
    status = {"PASS": "passed", "FAIL": "failed"}[verdict]
    writer.finish(status, verdict, None, {"verdict": verdict}, seal=seal_run)
    return writer.run_dir


def record_dead_run(data_dir: Path) -> str:
    """A run left ``running`` in the index by a process that has exited since; its id."""
    script = textwrap.dedent(
        f"""
        from rig.record.run_store import RunStore
        writer = RunStore({str(data_dir)!r}).create("soak", "iss", ["p"], {{}}, {{}})
        writer.sample(0.0, "hold", {{"p": 1.0e5}})
        writer.close()
        print(writer.run_id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Two finished runs and one whose controller died."""
    root = tmp_path / "data"
    record_run(root, "PASS")
    record_run(root, "FAIL")
    record_dead_run(root)
    return root


def rig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"rig {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def read_only(data_dir: Path) -> Iterator[Path]:
    """``data_dir`` with every write permission removed (root ignores them: the snapshot still tells)."""
    paths = sorted([data_dir, *data_dir.rglob("*")], reverse=True)
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield data_dir
    for p in reversed(paths):
        p.chmod(modes[p])


# --- never writes ------------------------------------------------------------------------------------


def test_reading_commands_change_nothing(capsys: pytest.CaptureFixture[str], read_only: Path) -> None:
    data_dir = read_only
    before = snapshot(data_dir)
    index = (data_dir / "runs.sqlite").read_bytes()
    code, out, _ = rig(capsys, "runs", "--data-dir", str(data_dir), "--json")
    assert code == 0
    listed = json.loads(out)
    assert sorted(r["status"] for r in listed) == ["failed", "interrupted", "passed"]
    code, out, _ = rig(capsys, "runs", "--data-dir", str(data_dir))
    assert code == 0 and "soak" in out
    for run in listed:
        code, out, err = rig(capsys, "runs", "show", run["run_id"], "--data-dir", str(data_dir), "--json")
        assert code == 0, err
        assert json.loads(out)["status"] == run["status"]
        if run["status"] != "interrupted":
            code, out, err = rig(capsys, "verify", run["run_dir"])
            assert (code, out.splitlines()[0]) == (0, "OK"), err
    code, _, err = rig(
        capsys, "analyze", str(DECAY_CSV / "pressure_decay_1L.csv"), "--volume", "1 L", "--json"
    )
    assert code == 0, err
    assert snapshot(data_dir) == before
    # The dead run is shown as interrupted, and the index still says running: computed, not written.
    assert (data_dir / "runs.sqlite").read_bytes() == index
    with sqlite3.connect(f"{(data_dir / 'runs.sqlite').as_uri()}?mode=ro", uri=True) as db:
        statuses = sorted(row[0] for row in db.execute("SELECT status FROM runs"))
    assert statuses == ["failed", "passed", "running"]


def test_a_data_directory_that_does_not_exist_lists_empty_and_is_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "not" / "yet"
    code, out, err = rig(capsys, "runs", "--data-dir", str(missing), "--json")
    assert (code, json.loads(out), err) == (0, [], "")
    code, out, _ = rig(capsys, "runs", "--data-dir", str(missing))
    assert code == 0 and out.strip() == f"no runs in {missing}"
    code, _, err = rig(capsys, "runs", "show", "2026", "--data-dir", str(missing))
    assert code == 2 and "no run '2026'" in one_error_line(err, "runs")
    assert not (tmp_path / "not").exists()


def test_an_empty_data_directory_stays_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = rig(capsys, "runs", "show", "nosuchrun", "--data-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_writer_still_makes_what_it_needs(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "new" / "data")
    assert not (tmp_path / "new").exists()  # making a store object writes nothing
    writer = store.create("p", "b", [], {}, {})
    writer.finish("passed", "PASS", None, {})
    assert [r.status for r in store.runs()] == ["passed"]


# --- damaged records: one line, exit 2 --------------------------------------------------------------


def _only_run(data_dir: Path) -> tuple[str, Path]:
    run = RunStore(data_dir).runs()[0]
    return run.run_id, Path(run.run_dir)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "results.json").write_bytes(os.urandom(64) + b"\xff"), "results.json is damaged"),
        (lambda d: (d / "results.json").write_text("[1, 2"), "results.json is damaged: not JSON"),
        (lambda d: (d / "results.json").write_text("[1, 2]"), "results.json is damaged: not a JSON object"),
        (lambda d: (d / "samples.csv").unlink(), "samples.csv is missing"),
        (lambda d: (d / "samples.csv").write_bytes(b"\x00\xfe" + os.urandom(64)), "samples.csv is damaged"),
        (lambda d: (d / "samples.csv").write_text("hello\nworld\n"), "samples.csv is damaged"),
        (lambda d: (d / "run.json").write_bytes(b"\xff" + os.urandom(64)), "run.json is damaged"),
        (lambda d: (d / "run.json").write_text("{"), "run.json is damaged: not JSON"),
        (lambda d: (d / "run.json").unlink(), "run.json is missing"),
        (lambda d: __import__("shutil").rmtree(d), "is missing"),
    ],
    ids=[
        "results-bytes",
        "results-cut",
        "results-list",
        "samples-missing",
        "samples-bytes",
        "samples-text",
        "run-json-bytes",
        "run-json-cut",
        "run-json-missing",
        "run-dir-deleted",
    ],
)
@pytest.mark.parametrize("plot", [False, True], ids=["show", "show-plot"])
def test_a_damaged_run_directory_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, damage: object, message: str, plot: bool
) -> None:
    data_dir = tmp_path / "data"
    record_run(data_dir)
    run_id, run_dir = _only_run(data_dir)
    damage(run_dir)  # type: ignore[operator]
    image = tmp_path / "run.png"
    extra = ["--plot", str(image)] if plot else []
    code, out, err = rig(capsys, "runs", "show", run_id, "--data-dir", str(data_dir), *extra)
    assert code == 2 and out == ""
    assert message in one_error_line(err, "runs")
    assert not image.exists()


def test_a_run_without_results_is_shown(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    dead = next(r for r in RunStore(data_dir).runs() if r.status == "interrupted")
    code, out, err = rig(capsys, "runs", "show", dead.run_id, "--data-dir", str(data_dir), "--json")
    assert code == 0, err
    detail = json.loads(out)
    assert (detail["results"], detail["samples"], detail["run"]["procedure"]) == (None, 1, "soak")
    assert detail["reason"] == "the controller stopped"


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (lambda p: p.write_bytes(os.urandom(4096)), "not a database"),
        (lambda p: p.write_bytes(b""), "not a run index (it has no runs table)"),
        (lambda p: _sql(p, "CREATE TABLE runs (id INTEGER, name TEXT)"), "not a run index of this version"),
        (lambda p: _sql(p, "CREATE TABLE other (x)"), "not a run index (it has no runs table)"),
        (
            lambda p: _sql(
                p,
                "CREATE TABLE runs (run_id TEXT, procedure TEXT, bench TEXT, started TEXT, ended TEXT,"
                " status TEXT, verdict TEXT, reason TEXT, run_dir TEXT, pid INTEGER);"
                " INSERT INTO runs VALUES ('r1', 'p', 'b', 's', NULL, 'running', NULL, NULL, NULL, 'x')",
            ),
            "run 'r1' has run_dir = None",
        ),
        (lambda p: p.mkdir(), "cannot be read"),
    ],
    ids=["random-bytes", "empty-file", "wrong-schema", "no-runs-table", "wrong-values", "a-directory"],
)
def test_a_garbage_index_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: object, message: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    index(data_dir / "runs.sqlite")  # type: ignore[operator]
    before = snapshot(data_dir)
    for argv in (["runs", "--json"], ["runs"], ["runs", "show", "r1"]):
        code, out, err = rig(capsys, *argv, "--data-dir", str(data_dir))
        assert code == 2 and out == ""
        assert message in one_error_line(err, "runs")
    assert snapshot(data_dir) == before


def _sql(path: Path, script: str) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(script)
    db.close()


def test_a_garbage_index_is_refused_by_rig_run_before_anything_is_contacted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "runs.sqlite").write_bytes(os.urandom(4096))
    before = snapshot(data_dir)
    procedure = ROOT / "procedures" / "pressure_decay.yaml"
    code, out, err = rig(capsys, "run", str(procedure), "--sim", "--data-dir", str(data_dir))
    assert code == 2 and out == ""
    assert "not a database" in one_error_line(err, "run")
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("argv", [["runs"], ["runs", "--json"], ["runs", "show", "x"]])
def test_a_data_directory_that_is_a_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    a_file = tmp_path / "flat.csv"
    a_file.write_text("time,pressure\n0,1\n")
    code, out, err = rig(capsys, *argv, "--data-dir", str(a_file))
    assert code == 2 and out == ""
    assert "is not a directory" in one_error_line(err, "runs")
    assert a_file.read_text() == "time,pressure\n0,1\n"


def test_rig_run_refuses_a_data_directory_that_is_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "flat.csv"
    a_file.write_text("x")
    procedure = ROOT / "procedures" / "pressure_decay.yaml"
    code, _, err = rig(capsys, "run", str(procedure), "--sim", "--data-dir", str(a_file))
    assert code == 2
    assert "is not a directory" in one_error_line(err, "run")
