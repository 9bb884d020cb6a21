"""Run records: appended as they go, readable after a crash, indexed with their status."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rig.record.run_store import DamagedRecordError, RunStore, read_results, read_run_info, read_samples


def test_a_run_is_written_and_indexed(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    writer = store.create(
        "decay", "mockup", ["p_article", "t_article"], {"seed": 3}, {"procedure.yaml": "x: 1\n"}
    )
    writer.sample(0.0, "fill", {"p_article": 2e5, "t_article": 293.15})
    writer.sample(1.0, "fill", {"p_article": 2e5 - 0.5})  # a thermocouple dropout stays empty
    writer.event(1.0, "step", "fill done")
    assert store.runs()[0].status == "running"
    writer.finish("passed", "PASS", None, {"measurements": {}})
    header, rows = read_samples(writer.run_dir)
    assert header == ["time", "step", "p_article", "t_article"]
    assert rows == [["0.0", "fill", "200000.0", "293.15"], ["1.0", "fill", "199999.5", ""]]
    assert (writer.run_dir / "procedure.yaml").read_text() == "x: 1\n"
    run = store.runs()[0]
    assert (run.status, run.verdict, run.procedure) == ("passed", "PASS", "decay")
    assert store.get(run.run_id[:12]) == run


def test_a_killed_run_is_readable_and_listed_as_interrupted(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from rig.record.run_store import RunStore
        w = RunStore({str(tmp_path)!r}).create("soak", "iss", ["p"], {{}}, {{}})
        for i in range(50):
            w.sample(float(i), "hold", {{"p": 1e5 - i}})
        os.write(w._samples.fd, b"50.0,hold,99")  # a line the kill cuts short
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    store = RunStore(tmp_path)
    run = store.runs()[0]
    assert run.status == "interrupted"
    header, rows = read_samples(run.run_dir)
    assert header == ["time", "step", "p"] and len(rows) == 50  # the cut line is dropped, nothing else


def test_unknown_status_is_refused(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    writer = store.create("p", "b", [], {}, {})
    with pytest.raises(ValueError, match="unknown run status"):
        writer.finish("splendid", None, None, {})


def test_rig_runs_lists_and_shows(tmp_path: Path) -> None:
    import json

    store = RunStore(tmp_path)
    writer = store.create("decay", "mockup", ["p"], {}, {})
    writer.sample(0.0, "hold", {"p": 1.0})
    writer.finish("failed", "FAIL", "leak above the limit", {"verdict": "FAIL"})
    listed = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "--data-dir", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = json.loads(listed.stdout)
    assert [(r["status"], r["verdict"]) for r in runs] == [("failed", "FAIL")]
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "rig",
            "runs",
            "show",
            runs[0]["run_id"],
            "--data-dir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    detail = json.loads(shown.stdout)
    assert detail["samples"] == 1 and detail["results"] == {"verdict": "FAIL"}
    missing = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "show", "nope", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_a_store_object_touches_nothing_until_a_writer_prepares(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    assert store.runs() == [] and store.get("x") is None
    assert not (tmp_path / "data").exists()
    store.prepare()
    assert (tmp_path / "data" / "runs.sqlite").is_file() and store.runs() == []


def test_a_writer_refuses_an_index_that_is_not_ours_before_writing(tmp_path: Path) -> None:
    (tmp_path / "runs.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(DamagedRecordError, match=r"runs\.sqlite"):
        RunStore(tmp_path).create("p", "b", [], {}, {})
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("pid", [0, -1, 2**40])
def test_a_pid_that_names_no_single_process_is_not_alive(tmp_path: Path, pid: int) -> None:
    store = RunStore(tmp_path)
    store.create("p", "b", [], {}, {})
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        db.execute("UPDATE runs SET pid = ?", (pid,))
    db.close()
    assert store.runs()[0].status == "interrupted"  # os.kill(0, 0) would have said "alive"


def test_the_next_writer_keeps_a_dead_run_interrupted(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    dead = store.create("p", "b", [], {}, {})
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        db.execute("UPDATE runs SET pid = 0 WHERE run_id = ?", (dead.run_id,))
    db.close()
    store.create("p", "b", [], {}, {})
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        status = db.execute("SELECT status, reason FROM runs WHERE run_id = ?", (dead.run_id,)).fetchone()
    db.close()
    # Written by the writer, so that a process id used again cannot make the old run look alive.
    assert status == ("interrupted", "the controller stopped")


def test_read_helpers_name_the_damaged_file(tmp_path: Path) -> None:
    writer = RunStore(tmp_path).create("p", "b", ["p"], {}, {})
    writer.close()
    assert read_results(writer.run_dir) is None  # a run without results: crashed or still running
    assert read_run_info(writer.run_dir)["procedure"] == "p"
    (writer.run_dir / "results.json").write_text("{not json")
    with pytest.raises(DamagedRecordError, match=r"results\.json is damaged: not JSON"):
        read_results(writer.run_dir)
    (writer.run_dir / "samples.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DamagedRecordError, match=r"samples\.csv is damaged"):
        read_samples(writer.run_dir)


def test_an_index_left_mid_commit_is_read_without_being_written(tmp_path: Path) -> None:
    # A writer killed while committing leaves a hot journal, which only a writable connection
    # may roll back: the reader rolls back a private copy and leaves the data directory as it is.
    RunStore(tmp_path).prepare()
    index = tmp_path / "runs.sqlite"
    with sqlite3.connect(index) as db:
        db.executemany(
            "INSERT INTO runs VALUES (?, 'decay', 'mockup', ?, NULL, 'passed', 'PASS', NULL, '/r', 1)",
            [(f"run-{i:05d}", f"2026-01-01T00:00:{i:05d}") for i in range(3000)],
        )
    db.close()
    script = textwrap.dedent(
        f"""
        import sqlite3
        db = sqlite3.connect({str(index)!r}, isolation_level=None)
        db.execute("PRAGMA cache_size = 1")  # the change spills into the file before the commit
        db.execute("BEGIN")
        db.execute("UPDATE runs SET procedure = 'half-written'")
        print("ready", flush=True)
        import time; time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    journal = tmp_path / "runs.sqlite-journal"
    assert journal.exists()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    runs = RunStore(tmp_path).runs()
    assert len(runs) == 3000 and {r.procedure for r in runs} == {"decay"}  # as last committed
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
