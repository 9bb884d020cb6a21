"""Run records: one directory per run, appended as the run goes, indexed in SQLite.

A run directory holds ``procedure.yaml`` and ``bench.yaml`` as run, ``run.json`` (who,
what, seed, instrument identities), ``samples.csv`` (one row per sample, appended and
flushed to disk at least every second, so a crash loses at most the last second),
``events.jsonl`` (one JSON object per event, flushed at once) and, at the end,
``results.json``. The index (``runs.sqlite`` in the data directory) lists every run with
its status; a run still marked running whose process is gone is shown as interrupted.

Reading never writes: :meth:`RunStore.runs`, :meth:`RunStore.get` and the ``read_*``
helpers open the index read-only and create nothing (a data directory that does not exist
holds no runs), and a run shown as interrupted is computed at read time. Writers
(:meth:`RunStore.create`, :meth:`RunStore.prepare`) make the directory and the index.
Recorded data that cannot be read (a damaged index or run directory) raises
:class:`DamagedRecordError`, which the command line reports as one line and exit 2.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from rig.errors import InputError
from rig.record.atomic import write_atomically
from rig.record.preflight import check_writable_dir
from rig.record.run_writer import FLUSH_INTERVAL_S, RunWriter

__all__ = ["FLUSH_INTERVAL_S", "STATUSES", "RunStore", "RunSummary", "RunWriter", "read_samples"]

STATUSES = ("running", "passed", "failed", "inconclusive", "aborted", "interrupted")
INDEX = "runs.sqlite"
INTERRUPTED_REASON = "the controller stopped"
# An ambiguous run-id prefix names this many of its runs (the newest), so the line stays one line.
_CANDIDATES_SHOWN = 5


class _HotJournalError(Exception):
    """The index was left mid-commit by a writer that died: it must be rolled back to be read."""


class DamagedRecordError(InputError):
    """Recorded data that cannot be read: an index or a run file that is missing or not what it should be.

    The message is one line naming the file and what is wrong with it.
    """


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


# The index's schema version, kept in SQLite's `PRAGMA user_version` (an index from before versions
# has none: 0). Version n is _MIGRATIONS[n - 1], the statements that bring version n - 1 to n; a
# change to the index is a new migration appended (and the columns below changed to match), never an
# edit of a released one.
INDEX_VERSION = 1
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: one row per run
        "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, procedure TEXT, bench TEXT,"
        " started TEXT, ended TEXT, status TEXT, verdict TEXT, reason TEXT, run_dir TEXT,"
        " pid INTEGER)",
    ),
)

# Column → the Python types its value may have (None where the column may be NULL).
_COLUMNS: dict[str, tuple[type, ...]] = {
    "run_id": (str,),
    "procedure": (str,),
    "bench": (str,),
    "started": (str,),
    "ended": (str, type(None)),
    "status": (str,),
    "verdict": (str, type(None)),
    "reason": (str, type(None)),
    "run_dir": (str,),
    "pid": (int,),
}


class RunStore:
    """The data directory: run directories plus their SQLite index.

    Making one touches nothing on disk; only a writer's :meth:`prepare` (or :meth:`create`)
    makes the directory and the index.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._db = self.data_dir / INDEX

    # --- writing ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Make the data directory and the index if they are not there (a writer's first act).

        Raises :class:`rig.errors.InputError` when the data directory cannot be made or written
        (:func:`rig.record.preflight.check_writable_dir`) and :class:`DamagedRecordError` when the
        index is not a run index, before anything is written into it.
        """
        check_writable_dir(self.data_dir, "data directory")
        with self._connect(damaged="cannot be written") as db:
            self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the index to :data:`INDEX_VERSION`: the migrations it lacks, in order, in one transaction.

        An index without a version (``PRAGMA user_version`` 0) that has a runs table with version
        1's columns was written before indexes had versions: it is version 1 as it stands.
        """
        # IMMEDIATE: the write lock from the start, so that two writers cannot both migrate.
        db.execute("BEGIN IMMEDIATE")
        version = self._version(db)
        for number in range(version + 1, INDEX_VERSION + 1):
            for statement in _MIGRATIONS[number - 1]:
                db.execute(statement)
        if version != INDEX_VERSION or self._stamped(db) != INDEX_VERSION:
            db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        self._check_schema(db)

    @staticmethod
    def _stamped(db: sqlite3.Connection) -> int:
        row = db.execute("PRAGMA user_version").fetchone()
        return int(row[0]) if row else 0

    def _version(self, db: sqlite3.Connection) -> int:
        """The index's schema version (0: none yet); :class:`DamagedRecordError` if a newer rig wrote it."""
        stamped = self._stamped(db)
        if stamped > INDEX_VERSION:
            raise DamagedRecordError(
                f"{self._db} is not a run index of this version (it is version {stamped}, written by a"
                f" newer rig; this one reads up to version {INDEX_VERSION})"
            )
        if stamped == 0 and db.execute("PRAGMA table_info(runs)").fetchall():
            self._check_columns(db)  # an unversioned index must be today's version 1 to be taken as it
            return 1
        return stamped

    @contextlib.contextmanager
    def _connect(
        self, *, damaged: str, read_only: bool = False, path: Path | None = None
    ) -> Iterator[sqlite3.Connection]:
        """A connection to the index (or the copy at ``path``) that commits on success and is always closed.

        ``read_only`` opens it so that nothing can be written (not even a journal). An
        SQLite error becomes :class:`DamagedRecordError` saying the index ``damaged``, except
        a hot journal met read-only (:class:`_HotJournalError`).
        """
        path = path or self._db
        try:
            if read_only:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
            else:
                db = sqlite3.connect(path, timeout=10.0)
        except sqlite3.Error as exc:
            raise DamagedRecordError(f"run index {self._db} {damaged}: {exc}") from None
        try:
            with db:
                yield db
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY_ROLLBACK:
                raise _HotJournalError from None
            raise DamagedRecordError(f"run index {self._db} {damaged}: {exc}") from None
        finally:
            db.close()

    def _check_schema(self, db: sqlite3.Connection) -> None:
        self._version(db)
        self._check_columns(db)

    def _check_columns(self, db: sqlite3.Connection) -> None:
        columns = tuple(row[1] for row in db.execute("PRAGMA table_info(runs)"))
        if not columns:
            raise DamagedRecordError(f"{self._db} is not a run index (it has no runs table)")
        if columns != tuple(_COLUMNS):
            raise DamagedRecordError(
                f"{self._db} is not a run index of this version (its runs table has columns"
                f" {', '.join(map(str, columns))})"
            )

    def create(
        self,
        procedure: str,
        bench: str,
        channels: Sequence[str],
        metadata: dict[str, Any],
        files: dict[str, str],
    ) -> RunWriter:
        """Start a run: make its directory, write what it runs, index it as running."""
        self.prepare()
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        run_dir = self.data_dir / "runs" / run_id
        run_dir.mkdir(parents=True)
        info = {"run_id": run_id, "procedure": procedure, "bench": bench, "started": started, **metadata}
        written = {name: text.encode("utf-8") for name, text in files.items()}
        written["run.json"] = (json.dumps(info, indent=2, default=str) + "\n").encode()
        for name, data in written.items():
            write_atomically(run_dir / name, data)
        with self._connect(damaged="cannot be written") as db:
            # Readers only show a dead run as interrupted; the writer keeps it so, so that a
            # process id used again later cannot make an old run look alive.
            for row in db.execute("SELECT run_id, pid FROM runs WHERE status = 'running'").fetchall():
                if not _alive(row[1]):
                    db.execute(
                        "UPDATE runs SET status = 'interrupted', reason = ? WHERE run_id = ?",
                        (INTERRUPTED_REASON, row[0]),
                    )
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, NULL, 'running', NULL, NULL, ?, ?)",
                (run_id, procedure, bench, started, str(run_dir), os.getpid()),
            )
        return RunWriter(self, run_id, run_dir, list(channels), written)

    def finish(self, run_id: str, status: str, verdict: str | None, reason: str | None) -> None:
        """Record how a run ended."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._connect(damaged="cannot be written") as db:
            db.execute(
                "UPDATE runs SET ended = ?, status = ?, verdict = ?, reason = ? WHERE run_id = ?",
                (time.strftime("%Y-%m-%dT%H:%M:%S%z"), status, verdict, reason, run_id),
            )

    # --- reading (never writes) ------------------------------------------------------------------

    def runs(self) -> list[RunSummary]:
        """Every run, newest first; a running run whose process is gone shows as interrupted.

        Writes nothing: a data directory or index that does not exist yet holds no runs.
        """
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise InputError(f"data directory {self.data_dir} is not a directory")
        if not self._db.exists():
            return []
        try:
            rows = self._rows(read_only=True)
        except _HotJournalError:
            # A writer killed while committing left the index to be rolled back, which a
            # read-only connection may not do: roll back a private copy instead.
            with tempfile.TemporaryDirectory(prefix="leakrig-index-") as tmp:
                copy = Path(tmp) / INDEX
                for suffix in ("", "-journal"):
                    shutil.copyfile(f"{self._db}{suffix}", f"{copy}{suffix}")
                rows = self._rows(path=copy)
        return [_shown(self._summary(row)) for row in rows]

    def _rows(self, *, read_only: bool = False, path: Path | None = None) -> list[Any]:
        with self._connect(damaged="cannot be read", read_only=read_only, path=path) as db:
            self._check_schema(db)
            return db.execute("SELECT * FROM runs ORDER BY started DESC, run_id DESC").fetchall()

    def get(self, run_id: str) -> RunSummary | None:
        """One run by id (or unique id prefix); None when none or several match."""
        matches = self.matching(run_id)
        return matches[0] if len(matches) == 1 else None

    def matching(self, run_id: str) -> list[RunSummary]:
        """The runs whose id is ``run_id`` or starts with it, newest first (an exact id alone)."""
        runs = self.runs()
        exact = [r for r in runs if r.run_id == run_id]
        return exact or [r for r in runs if r.run_id.startswith(run_id)]

    def find(self, run_id: str) -> RunSummary:
        """The one run ``run_id`` names (its id, or a prefix of one only).

        Raises :class:`rig.errors.InputError`: one message for an id no run has, another
        (listing a few candidates) for a prefix that several runs share.
        """
        matches = self.matching(run_id) if run_id else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise InputError(f"no run {run_id!r} in {self.data_dir} (`rig runs` lists them)")
        shown = ", ".join(r.run_id for r in matches[:_CANDIDATES_SHOWN])
        more = f" and {len(matches) - _CANDIDATES_SHOWN} more" if len(matches) > _CANDIDATES_SHOWN else ""
        raise InputError(
            f"run id {run_id!r} is ambiguous: {len(matches)} runs start with it"
            f" ({shown}{more}); give more of it"
        )

    def _summary(self, row: Sequence[Any]) -> RunSummary:
        for (column, types), value in zip(_COLUMNS.items(), row, strict=True):
            if not isinstance(value, types):
                raise DamagedRecordError(
                    f"run index {self._db}: run {row[0]!r} has {column} = {value!r}, not a"
                    f" {' or '.join('NULL' if t is type(None) else t.__name__ for t in types)}"
                )
        summary = RunSummary(*row)
        if not Path(summary.run_dir).is_absolute():
            # Recorded with a relative --data-dir, so relative to where that command ran: from
            # anywhere else (`rig store push --all --data-dir /srv/leakrig`, `rig trend`) it named
            # nothing. A run's directory is always runs/RUN_ID in its data directory.
            summary = replace(summary, run_dir=str(self.data_dir / "runs" / summary.run_id))
        return summary


def _shown(summary: RunSummary) -> RunSummary:
    """The run as it stands now: still running only while its process lives."""
    if summary.status == "running" and not _alive(summary.pid):
        return replace(summary, status="interrupted", reason=INTERRUPTED_REASON)
    return summary


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False  # 0 and negative numbers name process groups, never one controller
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def read_samples(run_dir: str | Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a run's samples; a last line cut short by a crash is dropped.

    A file that is not a samples table (not text, or a header that does not start
    ``time,step``) raises :class:`DamagedRecordError`; one that cannot be read, OSError.
    """
    path = Path(run_dir) / "samples.csv"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedRecordError(f"{path} is damaged: not UTF-8 text (byte {exc.start})") from None
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    try:
        rows = list(csv.reader(io.StringIO(complete)))
    except csv.Error as exc:
        raise DamagedRecordError(f"{path} is damaged: {exc}") from None
    if not rows:
        return [], []
    if rows[0][:2] != ["time", "step"]:
        raise DamagedRecordError(f"{path} is damaged: its header does not start with time,step")
    return rows[0], rows[1:]


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """``run.json``: who ran what, on which instruments (:class:`DamagedRecordError` if missing or bad)."""
    info = _read_json_object(Path(run_dir) / "run.json")
    if info is None:
        raise DamagedRecordError(f"{Path(run_dir) / 'run.json'} is missing")
    return info


def read_results(run_dir: str | Path) -> dict[str, Any] | None:
    """``results.json``, or None when the run has none (it crashed or is still running).

    A file that is there but not a JSON object raises :class:`DamagedRecordError`.
    """
    return _read_json_object(Path(run_dir) / "results.json")


def _read_json_object(path: Path) -> dict[str, Any] | None:
    if path.parent.is_dir() and not path.exists():
        return None
    text = _read_text(path)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DamagedRecordError(f"{path} is damaged: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DamagedRecordError(f"{path} is damaged: not a JSON object")
    return data


def _read_text(path: Path) -> str:
    """A record file's text (:class:`DamagedRecordError` if it or its directory is missing, or not text)."""
    if not path.parent.is_dir():
        raise DamagedRecordError(f"run directory {path.parent} is missing")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DamagedRecordError(f"{path} is missing") from None
    except IsADirectoryError:
        raise DamagedRecordError(f"{path} is damaged: a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise DamagedRecordError(f"{path} is damaged: not UTF-8 text (byte {exc.start})") from None
