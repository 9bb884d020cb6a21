"""One measurement across runs: the points a trend is drawn from, wherever the runs are kept.

The local data directory (its index and each run's ``results.json``) and the lab store
(PostgreSQL, :mod:`rig.store`) both give a measurement's history as these points, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HistoryPoint:
    """One run's value of one measurement (rates in Pa·m³/s, as ``results.json`` keeps them)."""

    run_id: str
    started: str  # ISO 8601, as the run index has it
    bench: str
    value: float
    ci95_low: float | None  # the 95 % interval of the value (None: the record has none)
    ci95_high: float | None
    limit: float | None
    # The unit the procedure wrote its limit in (``written_unit``, e.g. "sccm"), the one a trend
    # shows values in; the values themselves stay in Pa·m³/s. "Pa*m**3/s" when it cannot be told.
    unit: str
    outcome: str | None  # PASS, FAIL, INCONCLUSIVE, MEASURED (None: not judged)


class HistorySource(Protocol):
    """Where runs are kept, as a trend reads them."""

    def history(self, procedure: str, measurement: str) -> Sequence[HistoryPoint]:
        """Every finished run of ``procedure`` that holds ``measurement``, oldest first."""
        ...
