"""A measurement's history from the local data directory: its run index and each run's ``results.json``.

:class:`LocalHistory` is the :class:`rig.record.history.HistorySource` of one data directory
(the lab store, :mod:`rig.store`, is the other). A run counts once it has finished (passed,
failed, inconclusive or aborted: it wrote ``results.json``); runs still running or interrupted
hold no results and are passed over. Points come oldest first, as the index orders runs.

Each :class:`~rig.record.history.HistoryPoint` holds its rates in Pa·m³/s (a measurement recorded
in another leak-rate unit is converted) and, as ``unit``, the leak-rate unit the procedure wrote
the measurement's limit in (``sccm``), the unit a trend shows the values in; ``Pa*m**3/s`` when
the procedure wrote none (or one that is no leak-rate unit). The 95 % interval is the value ± the
expanded uncertainty U = 2·stderr (k = 2), as the certificate states it.

Finished runs that hold no value of the measurement (aborted before it, or a damaged record) are
left out of the points and kept, with the reason, in :attr:`Survey.skipped`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rig.errors import InputError
from rig.record.conditions import unit_of_step
from rig.record.history import HistoryPoint
from rig.record.measurement import UNIT, Measurement
from rig.record.results import RESULTS, RunResults
from rig.record.run_store import RunStore, RunSummary, read_results
from rig.units import T_TWENTY_C_K, leak_rate_unit_factor

# Statuses of a run that wrote its results.json (running and interrupted ones have none).
FINISHED = ("passed", "failed", "inconclusive", "aborted")
PROCEDURE_FILE = "procedure.yaml"
RUN_INFO = "run.json"


@dataclass(frozen=True)
class Survey:
    """What the data directory holds of one procedure's measurement, beyond the points themselves.

    ``skipped`` lists the finished runs of the procedure that give no point, as (run id, why);
    ``measurements_seen`` every measurement name its finished runs recorded;
    ``procedures_seen`` every procedure with a finished run (to name them when none matches).
    """

    points: list[HistoryPoint]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    measurements_seen: list[str] = field(default_factory=list)
    procedures_seen: list[str] = field(default_factory=list)


class LocalHistory:
    """The runs of one data directory as a :class:`rig.record.history.HistorySource` (read only)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.store = RunStore(data_dir)

    def history(self, procedure: str, measurement: str) -> list[HistoryPoint]:
        """Every finished run of ``procedure`` that holds a value of ``measurement``, oldest first."""
        return self.survey(procedure, measurement).points

    def survey(self, procedure: str, measurement: str) -> Survey:
        """The points of :meth:`history`, the runs passed over and the names seen (:class:`Survey`).

        A damaged index raises :class:`rig.record.run_store.DamagedRecordError`; a damaged run
        is passed over (skipped, with the reason), so one bad record does not hide a trend.
        """
        finished = [r for r in self.store.runs() if r.status in FINISHED]
        points: list[HistoryPoint] = []
        skipped: list[tuple[str, str]] = []
        seen: set[str] = set()
        for summary in sorted((r for r in finished if r.procedure == procedure), key=_run_order):
            try:
                results = _results(summary)
            except InputError as exc:
                skipped.append((summary.run_id, str(exc)))
                continue
            except OSError as exc:
                skipped.append(
                    (summary.run_id, f"{exc.filename or RESULTS} cannot be read: {exc.strerror or exc}")
                )
                continue
            recorded = results.measurements or {}
            seen.update(recorded)
            measured = recorded.get(measurement)
            if measured is None:
                skipped.append((summary.run_id, f"it recorded no measurement {measurement!r}"))
                continue
            point = _point(summary, measurement, measured)
            if isinstance(point, str):
                skipped.append((summary.run_id, point))
            else:
                points.append(point)
        return Survey(points, skipped, sorted(seen), sorted({r.procedure for r in finished}))


def _run_order(summary: RunSummary) -> tuple[str, int, str]:
    """Oldest first: by start (the index keeps whole seconds), then by when ``run.json`` was written,
    which is made once as the run starts, so that runs started within one second keep their order."""
    try:
        made_ns = (Path(summary.run_dir) / RUN_INFO).stat().st_mtime_ns
    except OSError:
        made_ns = 0
    return summary.started, made_ns, summary.run_id


def _results(summary: RunSummary) -> RunResults:
    document = read_results(summary.run_dir)
    if document is None:
        raise InputError(f"{Path(summary.run_dir) / RESULTS} is missing")
    return RunResults.from_json(document)


def _point(summary: RunSummary, name: str, measured: Measurement) -> HistoryPoint | str:
    """The run's point of ``measured``, or why it has none."""
    value = measured.value_pa_m3_s
    if value is None or not math.isfinite(value):
        return "the measurement has no value (the run ended before it)"
    line = measured.line
    pv_temperature_k = (line.compensated_to_k if line is not None else None) or T_TWENTY_C_K
    recorded_unit = measured.unit or UNIT
    try:
        to_si = leak_rate_unit_factor(recorded_unit, pv_temperature_k=pv_temperature_k)
    except InputError:
        return f"its unit {recorded_unit!r} is no leak-rate unit"
    expanded = measured.expanded_uncertainty_pa_m3_s
    u = abs(expanded) if expanded is not None and math.isfinite(expanded) else None
    limit = measured.limit_pa_m3_s
    return HistoryPoint(
        run_id=summary.run_id,
        started=summary.started,
        bench=summary.bench,
        value=value * to_si,
        ci95_low=None if u is None else (value - u) * to_si,
        ci95_high=None if u is None else (value + u) * to_si,
        limit=None if limit is None else limit * to_si,
        unit=_shown_unit(summary, name, measured),
        outcome=None if measured.outcome is None else measured.outcome.value,
    )


def _shown_unit(summary: RunSummary, name: str, measured: Measurement) -> str:
    """The unit the procedure wrote the limit in, as the record keeps it (older records: as the
    recorded procedure reads); Pa*m**3/s when there is none that converts."""
    unit = measured.written_unit or unit_of_step(name, _procedure(summary))
    if unit is None:
        return UNIT
    try:
        leak_rate_unit_factor(unit, pv_temperature_k=T_TWENTY_C_K)
    except InputError:
        return UNIT
    return unit


def _procedure(summary: RunSummary) -> Mapping[str, Any]:
    """The procedure as the run kept it (empty when it cannot be read: then no unit is known)."""
    try:
        data = yaml.safe_load((Path(summary.run_dir) / PROCEDURE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}
