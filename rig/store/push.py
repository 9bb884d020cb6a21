"""Pushing run records into the lab store: each run in its own transaction, never overwriting.

A run is stored whole (its index row, measurements, certificate and files) or not at all, so a
push cut short (the network gone, the process killed) leaves the store as it was before that run,
and pushing again resumes where it stopped. A run already stored with the same manifest is
"already present"; one stored with another manifest under its id is refused, never replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psycopg

from rig.errors import InputError
from rig.record.integrity import MANIFEST
from rig.record.run_store import INDEX, RunStore, RunSummary
from rig.record.trust import TrustStore
from rig.store.snapshot import UNFINISHED, RefusedError, Snapshot, UnfinishedError, sha256, take

# A backlog of at least this many runs reports its progress on stderr, every PROGRESS_EVERY runs.
PROGRESS_FROM = 20
PROGRESS_EVERY = 10

Connection = psycopg.Connection[Any]


@dataclass
class PushReport:
    """What a push did: run ids stored and already present; one line per record refused or skipped."""

    stored: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``3 stored, 1 already present, 0 refused, 1 skipped``."""
        return (
            f"{len(self.stored)} stored, {len(self.present)} already present,"
            f" {len(self.refused)} refused, {len(self.skipped)} skipped"
        )


def store_snapshot(conn: Connection, snap: Snapshot) -> bool:
    """Store ``snap`` in one transaction: True if stored, False if already present with the same manifest.

    :class:`RefusedError` (nothing written) when the store holds another record under its run id.
    """
    with conn.transaction():
        inserted = conn.execute(
            "INSERT INTO runs (run_id, bench, procedure, started, started_at, ended, status, verdict,"
            " reason, operator, part, serial, run_dir, pid, signer_public_key, manifest_sha256)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
            (
                snap.run_id,
                snap.bench,
                snap.procedure,
                snap.started,
                snap.started_at,
                snap.ended,
                snap.status,
                snap.verdict,
                snap.reason,
                snap.operator,
                snap.part,
                snap.serial,
                snap.run_dir,
                snap.pid,
                snap.signer_public_key,
                snap.manifest_sha256,
            ),
        ).fetchone()
        if inserted is None:
            _check_same(conn, snap.run_id, snap.manifest_sha256, snap.run_dir)
            return False
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO measurements (run_id, name, value, uncertainty_k2, limit_value, unit, outcome)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (snap.run_id, m.name, m.value, m.uncertainty_k2, m.limit, m.unit, m.outcome)
                    for m in snap.measurements
                ],
            )
            cur.executemany(
                "INSERT INTO files (run_id, path, sha256, content) VALUES (%s, %s, %s, %s)",
                [(snap.run_id, name, sha256(data), data) for name, data in snap.files.items()],
            )
        if snap.certificate is not None:
            c = snap.certificate
            conn.execute(
                "INSERT INTO certificates (run_id, html_sha256, pdf_sha256, sealed_at, public_key)"
                " VALUES (%s, %s, %s, %s, %s)",
                (snap.run_id, c.html_sha256, c.pdf_sha256, c.sealed_at, c.public_key),
            )
    return True


def _check_same(conn: Connection, run_id: str, manifest_sha256: str, where: str) -> None:
    row = conn.execute("SELECT manifest_sha256 FROM runs WHERE run_id = %s", (run_id,)).fetchone()
    if row is not None and row[0] != manifest_sha256:
        raise RefusedError(
            f"{where}: refused, the store already holds another record under run id {run_id}"
            " (a different manifest); it is not overwritten"
        )


class Pusher:
    """Pushes records into the store at ``conn``, judging signers against ``trust``.

    ``progress`` (stderr by default) gets the progress of long backlogs; ``stored`` is told of each
    run stored as it is.
    """

    def __init__(
        self,
        conn: Connection,
        trust: TrustStore,
        progress: TextIO | None = None,
        stored: Callable[[str], None] | None = None,
    ) -> None:
        self._conn = conn
        self._trust = trust
        self._progress = progress if progress is not None else sys.stderr
        self._stored = stored or (lambda _run_id: None)

    def push_dirs(self, run_dirs: Sequence[Path]) -> PushReport:
        """Push the records in ``run_dirs`` (each an existing directory, else :class:`InputError` first)."""
        for run_dir in run_dirs:
            if not run_dir.is_dir():
                raise InputError(f"{run_dir}: not a directory")
        report = PushReport()
        for run_dir in run_dirs:
            self._push_one(run_dir, _index_row(run_dir), report)
        return report

    def push_all(self, data_dir: Path) -> PushReport:
        """Push the finished runs of ``data_dir``'s index that the store lacks, oldest first."""
        report = PushReport()
        runs = RunStore(data_dir).runs()
        for run in runs:
            if run.status in UNFINISHED:
                report.skipped.append(f"{run.run_id}: {run.status}, not finished: skipped")
        finished = [r for r in reversed(runs) if r.status not in UNFINISHED]
        held = self._held([r.run_id for r in finished])
        backlog: list[RunSummary] = []
        for run in finished:
            if run.run_id not in held:
                backlog.append(run)
                continue
            local = Path(run.run_dir) / MANIFEST
            if local.is_file() and sha256(local.read_bytes()) != held[run.run_id]:
                report.refused.append(
                    f"{run.run_dir}: refused, the store already holds another record under run id"
                    f" {run.run_id} (a different manifest); it is not overwritten"
                )
            else:
                report.present.append(run.run_id)
        for number, run in enumerate(backlog, start=1):
            self._push_one(Path(run.run_dir), run, report)
            if len(backlog) >= PROGRESS_FROM and (number % PROGRESS_EVERY == 0 or number == len(backlog)):
                print(f"rig store: {number}/{len(backlog)} runs of the backlog pushed", file=self._progress)
        return report

    def _held(self, run_ids: list[str]) -> dict[str, str]:
        """The manifest SHA-256 of each of ``run_ids`` the store holds."""
        rows = self._conn.execute(
            "SELECT run_id, manifest_sha256 FROM runs WHERE run_id = ANY(%s)", (run_ids,)
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def _push_one(self, run_dir: Path, summary: RunSummary | None, report: PushReport) -> None:
        try:
            snap = take(run_dir, summary, self._trust)
            if store_snapshot(self._conn, snap):
                report.stored.append(snap.run_id)
                self._stored(snap.run_id)
            else:
                report.present.append(snap.run_id)
        except UnfinishedError as exc:
            report.skipped.append(str(exc))
        except RefusedError as exc:
            report.refused.append(str(exc))


def _index_row(run_dir: Path) -> RunSummary | None:
    """The run's row of the index of the data directory it is in (``DATA/runs/ID``), if there is one."""
    data_dir = run_dir.resolve().parent.parent
    if not (data_dir / INDEX).is_file():
        return None
    try:
        for run in RunStore(data_dir).runs():
            if Path(run.run_dir).resolve() == run_dir.resolve():
                return run
    except InputError:  # a damaged index: the record itself still says what it is
        return None
    return None
