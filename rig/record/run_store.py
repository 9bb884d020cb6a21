"""Run records: one directory per run, appended as the run goes, indexed in SQLite.

A run directory holds ``procedure.yaml`` and ``bench.yaml`` as run, ``run.json`` (who,
what, seed, instrument identities), ``samples.csv`` (one row per sample, appended and
flushed to disk at least every second, so a crash loses at most the last second),
``events.jsonl`` (one JSON object per event, flushed at once) and, at the end,
``results.json``. The index (``runs.sqlite`` in the data directory) lists every run with
its status; a run still marked running whose process is gone is shown as interrupted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from rig.record.atomic import write_atomically

STATUSES = ("running", "passed", "failed", "inconclusive", "aborted", "interrupted")
FLUSH_INTERVAL_S = 1.0


def default_data_dir() -> Path:
    """Where runs go unless ``--data-dir`` says otherwise (the user's data directory)."""
    return Path(platformdirs.user_data_dir("leakrig", appauthor=False))


@dataclass(frozen=True)
class RunSummary:
    """One row of the run index."""

    run_id: str
    procedure: str
    bench: str
    started: str
    ended: str | None
    status: str
    verdict: str | None
    reason: str | None
    run_dir: str
    pid: int


class RunStore:
    """The data directory: run directories plus their SQLite index."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = self.data_dir / "runs.sqlite"
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, procedure TEXT, bench TEXT,"
                " started TEXT, ended TEXT, status TEXT, verdict TEXT, reason TEXT, run_dir TEXT,"
                " pid INTEGER)"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success and is always closed."""
        db = sqlite3.connect(self._db, timeout=10.0)
        try:
            with db:
                yield db
        finally:
            db.close()

    def create(
        self,
        procedure: str,
        bench: str,
        channels: Sequence[str],
        metadata: dict[str, Any],
        files: dict[str, str],
    ) -> RunWriter:
        """Start a run: make its directory, write what it runs, index it as running."""
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        run_dir = self.data_dir / "runs" / run_id
        run_dir.mkdir(parents=True)
        for name, text in files.items():
            write_atomically(run_dir / name, text.encode("utf-8"))
        info = {"run_id": run_id, "procedure": procedure, "bench": bench, "started": started, **metadata}
        write_atomically(run_dir / "run.json", (json.dumps(info, indent=2, default=str) + "\n").encode())
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, NULL, 'running', NULL, NULL, ?, ?)",
                (run_id, procedure, bench, started, str(run_dir), os.getpid()),
            )
        return RunWriter(self, run_id, run_dir, list(channels))

    def finish(self, run_id: str, status: str, verdict: str | None, reason: str | None) -> None:
        """Record how a run ended."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET ended = ?, status = ?, verdict = ?, reason = ? WHERE run_id = ?",
                (time.strftime("%Y-%m-%dT%H:%M:%S%z"), status, verdict, reason, run_id),
            )

    def runs(self) -> list[RunSummary]:
        """Every run, newest first; running runs whose process is gone become interrupted."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY started DESC, run_id DESC").fetchall()
            out = []
            for row in rows:
                summary = RunSummary(*row)
                if summary.status == "running" and not _alive(summary.pid):
                    db.execute(
                        "UPDATE runs SET status = 'interrupted', reason = ? WHERE run_id = ?",
                        ("the controller stopped", summary.run_id),
                    )
                    summary = replace(summary, status="interrupted", reason="the controller stopped")
                out.append(summary)
        return out

    def get(self, run_id: str) -> RunSummary | None:
        """One run by id (or unique id prefix)."""
        matches = [r for r in self.runs() if r.run_id.startswith(run_id)]
        return matches[0] if len(matches) == 1 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunWriter:
    """Appends one run's samples and events as they happen."""

    def __init__(self, store: RunStore, run_id: str, run_dir: Path, channels: list[str]) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.channels = channels
        self._samples = (run_dir / "samples.csv").open("a", newline="", encoding="utf-8")
        self._events = (run_dir / "events.jsonl").open("a", encoding="utf-8")
        self._writer = csv.writer(self._samples)
        self._writer.writerow(["time", "step", *channels])
        self._last_sync = time.monotonic()
        self._sync(self._samples)

    def sample(self, t_s: float, step: str, values: dict[str, float | None]) -> None:
        """Append one sample row (missing channels stay empty: a dropout, never a guess)."""
        row = [repr(t_s), step, *("" if values.get(c) is None else repr(values[c]) for c in self.channels)]
        self._writer.writerow(row)
        self._samples.flush()
        if time.monotonic() - self._last_sync >= FLUSH_INTERVAL_S:
            self._sync(self._samples)

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Append one event and put it on disk at once (events are rare and matter)."""
        line = json.dumps({"t": t_s, "kind": kind, "message": message, **data}, default=str)
        self._events.write(line + "\n")
        self._sync(self._events)

    def finish(
        self,
        status: str,
        verdict: str | None,
        reason: str | None,
        results: dict[str, Any],
        seal: Callable[[Path], object] | None = None,
    ) -> None:
        """Write the results, close the files, ``seal`` the record, mark the run ended in the index.

        The index is last, so a run the index shows ended is complete (and sealed, when
        ``seal`` is given); a crash before it leaves the run ``interrupted``.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        # Whole or absent: a kill while finishing must not leave half a results.json.
        results_json = json.dumps(results, indent=2, default=str) + "\n"
        write_atomically(self.run_dir / "results.json", results_json.encode("utf-8"))
        self.close()
        if seal is not None:
            seal(self.run_dir)
        self.store.finish(self.run_id, status, verdict, reason)

    def close(self) -> None:
        """Flush and close the files (the run stays as it is in the index)."""
        for fh in (self._samples, self._events):
            if not fh.closed:
                self._sync(fh)
                fh.close()

    def _sync(self, fh: io.TextIOBase) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        if fh is self._samples:
            self._last_sync = time.monotonic()


def read_samples(run_dir: str | Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a run's samples; a last line cut short by a crash is dropped."""
    text = (Path(run_dir) / "samples.csv").read_text(encoding="utf-8")
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    rows = list(csv.reader(io.StringIO(complete)))
    return (rows[0], rows[1:]) if rows else ([], [])
