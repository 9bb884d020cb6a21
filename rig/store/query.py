"""Reading the lab store: the runs it holds (searched) and one measurement's history across runs."""

from __future__ import annotations

from typing import Any

import psycopg

from rig.record.history import HistoryPoint
from rig.record.run_store import RunSummary
from rig.store.connection import open_store
from rig.store.filters import RunFilter
from rig.store.snapshot import UNFINISHED

Connection = psycopg.Connection[Any]

_SUMMARY_COLUMNS = "run_id, procedure, bench, started, ended, status, verdict, reason, run_dir, pid"


def store_runs(conn: Connection, run_filter: RunFilter | None = None) -> list[RunSummary]:
    """The runs in the store that pass ``run_filter``, newest first, as ``rig runs`` lists them."""
    condition, params = (run_filter or RunFilter()).where()
    rows = conn.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM runs WHERE {condition}"  # constant fragments; values are parameters
        " ORDER BY started_at DESC NULLS LAST, started DESC, run_id DESC",
        params,
    ).fetchall()
    return [RunSummary(*row) for row in rows]


class StoreHistory:
    """A :class:`rig.record.history.HistorySource` over the lab store at ``url``: every bench's runs."""

    def __init__(self, url: str) -> None:
        self.url = url

    def history(self, procedure: str, measurement: str) -> list[HistoryPoint]:
        """Every finished run of ``procedure`` holding a value of ``measurement``, oldest first.

        The interval is the value ± its expanded uncertainty U (k = 2); None when the record has no U.
        Raises :class:`rig.store.connection.StoreError` when the store cannot be read.
        """
        with open_store(self.url) as conn:
            rows = conn.execute(
                "SELECT r.run_id, r.started, r.bench, m.value, m.uncertainty_k2, m.limit_value, m.unit,"
                " m.outcome FROM runs r JOIN measurements m ON m.run_id = r.run_id"
                " WHERE r.procedure = %s AND m.name = %s AND m.value IS NOT NULL"
                " AND NOT (r.status = ANY(%s))"
                " ORDER BY r.started_at ASC NULLS FIRST, r.started ASC, r.run_id ASC",
                (procedure, measurement, list(UNFINISHED)),
            ).fetchall()
        points = []
        for run_id, started, bench, value, expanded, limit, unit, outcome in rows:
            low = None if expanded is None else value - expanded
            high = None if expanded is None else value + expanded
            points.append(HistoryPoint(run_id, started, bench, value, low, high, limit, unit or "", outcome))
        return points
