"""Searching runs: by bench, procedure, part or serial number, verdict and start date.

The same filter serves the local index (:meth:`RunFilter.matches`) and the lab store
(:meth:`RunFilter.where`, parameterised SQL), so ``rig runs`` searches both alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.errors import InputError
from rig.outcome import Outcome, outcome_of
from rig.record.run_store import RunSummary


@dataclass(frozen=True)
class RunFilter:
    """What a run must be to be listed (None: anything); ``since`` and ``until`` bound its start."""

    bench: str | None = None
    procedure: str | None = None
    part: str | None = None
    serial: str | None = None
    verdict: str | None = None  # PASS, FAIL, INCONCLUSIVE, ABORTED (any case)
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive: the end of the day given

    def __post_init__(self) -> None:
        # A misspelt verdict or dates the wrong way round would list nothing and look like "no
        # such runs": an answer that is wrong, not an empty one.
        if self.verdict is not None and outcome_of(self.verdict.upper()) is None:
            words = ", ".join(o.value for o in Outcome)
            raise InputError(f"--verdict {self.verdict!r}: not a verdict (one of {words})")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InputError("--since is after --until: no run can be in between")

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition on the store's ``runs`` (``TRUE`` when none) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("bench", self.bench),
            ("procedure", self.procedure),
            ("part", self.part),
            ("serial", self.serial),
        ):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        if self.verdict is not None:
            clauses.append("upper(verdict) = %s")
            params.append(self.verdict.upper())
        if self.since is not None:
            clauses.append("started_at >= %s")
            params.append(self.since)
        if self.until is not None:
            clauses.append("started_at < %s")
            params.append(self.until)
        return (" AND ".join(clauses) or "TRUE"), params

    def matches(self, run: RunSummary) -> bool:
        """Whether a run of the local index passes (part and serial are read from its ``run.json``)."""
        from rig.store.snapshot import started_time

        if self.bench is not None and run.bench != self.bench:
            return False
        if self.procedure is not None and run.procedure != self.procedure:
            return False
        if self.verdict is not None and (run.verdict or "").upper() != self.verdict.upper():
            return False
        if self.since is not None or self.until is not None:
            started = started_time(run.started)
            if started is None:
                return False
            if (self.since is not None and started < self.since) or (
                self.until is not None and started >= self.until
            ):
                return False
        if self.part is not None or self.serial is not None:
            part, serial = _article(run.run_dir)
            if (self.part is not None and part != self.part) or (
                self.serial is not None and serial != self.serial
            ):
                return False
        return True


def _article(run_dir: str) -> tuple[str | None, str | None]:
    """The part and serial number ``run.json`` records (None where it records none)."""
    from rig.record.run_store import read_run_info

    try:
        article = read_run_info(Path(run_dir)).get("article")
    except (InputError, OSError):
        return None, None
    if not isinstance(article, dict):
        return None, None
    part, serial = article.get("part"), article.get("serial")
    return (part if isinstance(part, str) else None, serial if isinstance(serial, str) else None)


def parse_when(text: str, what: str, *, end_of_day: bool = False) -> dt.datetime:
    """``--since``/``--until``: a date (``2026-12-06``, a whole day in UTC) or an ISO 8601 time.

    For a date, ``end_of_day`` gives the start of the next day (so ``--until`` includes the day); for
    a time, the instant after it (so ``--until`` includes the time).
    :class:`InputError` (one line) for anything else.
    """
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        if end_of_day and day == dt.date.max:
            return dt.datetime.max.replace(tzinfo=dt.UTC)  # no next day: the end of time is the bound
        return start + dt.timedelta(days=1) if end_of_day else start
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r}: not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    when = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    if end_of_day and when < dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=1):
        # The bound is exclusive and both ends are included: --until T lists a run started at T.
        return when + dt.timedelta(microseconds=1)
    return when
