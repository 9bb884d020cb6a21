"""Append one run's samples and events as they happen, and never let a failing disk stop the run.

Rows go to ``samples.csv`` (flushed to the kernel at once, fsynced at least every
``FLUSH_INTERVAL_S``) and events to ``events.jsonl`` (fsynced at once). The writer writes raw
bytes through the file descriptors and keeps what the kernel has not yet taken, so that a
full disk (``ENOSPC``), a file-size limit, or a run directory removed under it never raises
into the engine: the run must still reach its safe state, which cannot wait for a disk. The
first such failure is kept in :attr:`RunWriter.failure` (the engine aborts the run on it),
the rows not yet written stay in memory and are written as soon as the disk takes them again
(at the latest when the run finishes), and a run directory that vanished is rebuilt at the
end from the still-open files, so that no recorded sample is lost while the process lives.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rig.errors import InputError
from rig.record.atomic import write_atomically
from rig.record.results import write_results

if TYPE_CHECKING:
    from rig.record.run_store import RunStore

FLUSH_INTERVAL_S = 1.0
SAMPLES = "samples.csv"
EVENTS = "events.jsonl"


class _AppendLog:
    """One append-only file written through its descriptor; bytes the kernel refused wait here."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.pending = bytearray()

    def append(self, data: bytes) -> None:
        """Queue ``data`` and hand the kernel whatever it takes (raises OSError if it takes none)."""
        self.pending += data
        self.push()

    def push(self) -> None:
        """Write what waits, as far as the kernel takes it."""
        while self.pending:
            written = os.write(self.fd, self.pending)
            del self.pending[:written]

    def sync(self) -> None:
        """Put what was written on the disk, and notice a file removed under us."""
        os.fsync(self.fd)
        if os.fstat(self.fd).st_nlink == 0:
            raise FileNotFoundError(f"{self.path.name} was removed from the run directory")

    def recover_into(self, path: Path) -> None:
        """Copy the (possibly unlinked) file's content, and what still waits, to ``path``."""
        # /proc/self/fd reopens a removed file while we hold it open (Linux); elsewhere, only
        # what still waits can be saved.
        source = Path(f"/proc/self/fd/{self.fd}")
        content = source.read_bytes() if source.exists() else b""
        write_atomically(path, content + bytes(self.pending))
        self.pending.clear()

    def close(self) -> None:
        """Close the descriptor (what still waits is lost only if the disk never takes it)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


class RunWriter:
    """Appends one run's samples and events as they happen.

    ``files`` are the files the run directory was created with (name → bytes): kept so that
    a run directory removed while the run goes on can be rebuilt when it finishes.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        run_dir: Path,
        channels: list[str],
        files: dict[str, bytes] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.channels = channels
        self._files = dict(files or {})
        # The first write that failed (a full disk, a removed directory): why the record is
        # incomplete. The engine aborts the run on it.
        self.failure: str | None = None
        self._samples = _AppendLog(run_dir / SAMPLES)
        self._events = _AppendLog(run_dir / EVENTS)
        self._closed = False
        self._last_sync = time.monotonic()
        self._append(self._samples, _csv_row(["time", "step", *channels]))
        self._sync(self._samples)

    def sample(self, t_s: float, step: str, values: dict[str, float | None]) -> None:
        """Append one sample row (missing channels stay empty: a dropout, never a guess).

        Every sample given is written: the engine records one sample per instant
        (:meth:`rig.engine.runner.Runner.sample`), so ``samples.csv`` has one row per time stamp.
        """
        row = [repr(t_s), step, *("" if values.get(c) is None else repr(values[c]) for c in self.channels)]
        self._append(self._samples, _csv_row(row))
        if time.monotonic() - self._last_sync >= FLUSH_INTERVAL_S:
            self._sync(self._samples)

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Append one event and put it on disk at once (events are rare and matter)."""
        line = json.dumps({"t": t_s, "kind": kind, "message": message, **data}, default=str)
        self._append(self._events, (line + "\n").encode("utf-8"))
        self._sync(self._events)

    @property
    def unwritten_bytes(self) -> int:
        """Bytes of samples and events the disk has not taken yet."""
        return len(self._samples.pending) + len(self._events.pending)

    def finish(
        self,
        status: str,
        verdict: str | None,
        reason: str | None,
        results: dict[str, Any],
        seal: Callable[[Path], object] | None = None,
    ) -> list[str]:
        """Write the results, close the files, ``seal`` the record, mark the run ended in the index.

        The index is last, so a run the index shows ended is complete (and sealed, when
        ``seal`` is given); a crash before it leaves the run ``interrupted``. Returns what could
        not be done (one line each; empty when the record is whole, sealed and indexed): a disk
        that stays full must not turn the end of a run into a traceback.
        """
        from rig.record.run_store import STATUSES

        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        problems: list[str] = []
        if not self.run_dir.is_dir():
            rebuilt = self._rebuild()
            if rebuilt is not None:
                problems.append(rebuilt)
            else:
                results = {**results, "record_rebuilt": "the run directory was removed during the run"}
        try:
            write_results(self.run_dir, results)
        except OSError as exc:
            problems.append(f"results.json not written: {_why(exc)}")
        self.close()
        if self.unwritten_bytes:
            problems.append(f"{self.unwritten_bytes} bytes of samples and events could not be written")
        if seal is not None and not problems:
            try:
                seal(self.run_dir)
            except (InputError, OSError) as exc:
                problems.append(f"not sealed: {exc}")
        try:
            self.store.finish(self.run_id, status, verdict, reason)
        except (sqlite3.Error, OSError, InputError) as exc:
            problems.append(f"the run index was not updated: {exc}")
        return problems

    def close(self) -> None:
        """Write what waits, sync and close the files (the run stays as it is in the index)."""
        if self._closed:
            return
        for log in (self._samples, self._events):
            self._sync(log)
        self._closed = True
        for log in (self._samples, self._events):
            log.close()

    def _append(self, log: _AppendLog, data: bytes) -> None:
        if self._closed:
            raise ValueError("the run record is closed")
        try:
            log.append(data)
        except OSError as exc:
            self._failed(exc)

    def _sync(self, log: _AppendLog) -> None:
        try:
            log.push()
            log.sync()
        except OSError as exc:
            self._failed(exc)
        if log is self._samples:
            self._last_sync = time.monotonic()

    def _failed(self, exc: OSError) -> None:
        if self.failure is None:
            self.failure = f"cannot write the run record in {self.run_dir}: {_why(exc)}"

    def _rebuild(self) -> str | None:
        """Make the removed run directory again from what this process still holds (None: done)."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for name, data in self._files.items():
                write_atomically(self.run_dir / name, data)
            for log, name in ((self._samples, SAMPLES), (self._events, EVENTS)):
                log.recover_into(self.run_dir / name)
        except OSError as exc:
            return f"the removed run directory could not be rebuilt: {_why(exc)}"
        return None


def _csv_row(fields: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    return buffer.getvalue().encode("utf-8")


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
