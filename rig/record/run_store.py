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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from rig.record.atomic import write_atomically
from rig.record.run_writer import FLUSH_INTERVAL_S, RunWriter

__all__ = ["FLUSH_INTERVAL_S", "STATUSES", "RunStore", "RunSummary", "RunWriter", "read_samples"]

STATUSES = ("running", "passed", "failed", "inconclusive", "aborted", "interrupted")


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
        info = {"run_id": run_id, "procedure": procedure, "bench": bench, "started": started, **metadata}
        written = {name: text.encode("utf-8") for name, text in files.items()}
        written["run.json"] = (json.dumps(info, indent=2, default=str) + "\n").encode()
        for name, data in written.items():
            write_atomically(run_dir / name, data)
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, NULL, 'running', NULL, NULL, ?, ?)",
                (run_id, procedure, bench, started, str(run_dir), os.getpid()),
            )
        return RunWriter(self, run_id, run_dir, list(channels), written)

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


def read_samples(run_dir: str | Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a run's samples; a last line cut short by a crash is dropped."""
    text = (Path(run_dir) / "samples.csv").read_text(encoding="utf-8")
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    rows = list(csv.reader(io.StringIO(complete)))
    return (rows[0], rows[1:]) if rows else ([], [])
