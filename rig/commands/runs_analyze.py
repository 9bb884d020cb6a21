"""``rig runs analyze RUN --step NAME``: refit one recorded measurement window from the run's samples.

The window is the one ``results.json`` records for the measurement (``window_s``, clock
seconds, both ends included), on the channel it fitted; the volume, the thermometer that
compensated the fit and the direction (a rise is fitted as the decay of −p, as the engine
does) come from the procedure and bench the run kept; the limit is the recorded one. The
samples are read from the run's ``samples.csv`` and fitted exactly as ``rig analyze FILE
--from T0 --to T1`` fits them (but for the rows an older record has at the time of the row
before, which are dropped: the first reading of an instant stands, as the writer now keeps
it), and printed by the same code (a table, or ``--json``): the
gauge's resolution is read off the recording, and only it enters the uncertainty as a
Type-B term (the engine's budget also holds the bench's volume, calibration, temperature and
zero terms, so its uncertainty is the larger).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from rig.commands.run_summary import measurement_json
from rig.errors import InputError
from rig.record.measurement import Measurement
from rig.record.run_store import RunStore
from rig.units import T_TWENTY_C_K, T_ZERO_C_K


def register(runs_sub: Any) -> None:
    """Add ``rig runs analyze`` under ``rig runs``."""
    p = runs_sub.add_parser(
        "analyze",
        help="refit a recorded measurement window",
        description="Refit one measurement's recorded window from the run's samples, as rig analyze would.",
    )
    p.add_argument("run_id", help="run id (or a unique prefix)")
    p.add_argument("--step", required=True, metavar="NAME", help="the measurement to refit (its name)")
    p.add_argument("--data-dir", dest="sub_data_dir", help="data directory")
    p.add_argument("--json", dest="sub_json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the window, the fit and the residuals")


def analyze_run(store: RunStore, args: argparse.Namespace) -> int:
    """Refit the window of measurement ``args.step`` of run ``args.run_id``; print it as ``rig analyze``."""
    from rig.commands.analyze import report_series
    from rig.record.csv_series import read_series
    from rig.record.run_record import RunRecord
    from rig.record.run_writer import SAMPLES
    from rig.steps import walk

    summary = store.find(args.run_id)
    record = RunRecord.load(summary.run_dir)
    name = args.step
    entry = record.measurements.get(name)
    if entry is None:
        names = ", ".join(record.measurements) or "none"
        raise InputError(f"run {summary.run_id} has no measurement {name!r} (its measurements: {names})")
    if entry.window_s is None or entry.channel is None:
        raise InputError(f"measurement {name!r} of run {summary.run_id} records no fitted window to refit")
    window = next((w for s in walk(record.steps) if (w := s.measured_window(name)) is not None), None)
    bench = record.bench_spec
    if window is None or bench is None:
        why = record.unread.get("procedure.yaml") or record.unread.get("bench.yaml") or "not in its procedure"
        raise InputError(f"measurement {name!r} of run {summary.run_id}: cannot tell its volume ({why})")
    volume_m3 = entry.volume_m3 if entry.volume_m3 is not None else bench.volumes[window.volume].size_m3
    start_s, end_s = entry.window_s
    series = read_series(
        record.run_dir / SAMPLES,
        time_column="time",
        pressure_column=entry.channel,
        temperature_column=window.temperature,
        require_temperature=window.temperature is not None,
        time_from=start_s,
        time_to=end_s,
        first_of_repeated_times=True,
    )
    if window.direction == "rise":
        # A rise is the decay of -p, as the engine fits it (the steps are the same either way).
        series = replace(series, pressure_pa=-series.pressure_pa)
    line = entry.line
    t_ref_k = (
        line.compensated_to_k if line is not None and line.compensated_to_k is not None else T_TWENTY_C_K
    )
    return report_series(
        series,
        volume_m3=volume_m3,
        t_ref_k=t_ref_k,
        sccm_ref_k=T_ZERO_C_K,
        limit_pa_m3_s=entry.limit_pa_m3_s,
        resolution_pa=None,
        plot=args.plot,
        as_json=args.sub_json,
        written_limit=_written_limit(entry),
    )


def _written_limit(entry: Measurement) -> str | None:
    """The recorded limit as the procedure wrote it (``0.5 sccm``), for the table; None: none known."""
    stated = measurement_json(entry)
    if entry.written_unit is None or stated["limit"] is None:
        return None
    return f"{stated['limit']:.6g} {stated['unit']}"
