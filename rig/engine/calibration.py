"""Whether the instruments a procedure relies on are in calibration on the day it runs.

A procedure relies on every gauge and thermometer its steps name (a compartment isolation
watches every gauge and thermometer of the bench) and on the leak standard behind every
valve a reference-leak check opens: each step kind says which (``Step.relies_on``). Each
must have a certificate on the bench that is not past due; anything else is a problem, stated
in plain words, which refuses the run unless the operator overrides it (and the certificate
then says so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rig.bench import BenchSpec
from rig.procedure.loader import Procedure
from rig.steps import walk

CALIBRATED = {"pressure", "temperature", "differential_pressure"}


def relied_on(procedure: Procedure) -> tuple[list[str], list[str]]:
    """(channels, reference-leak valves) the procedure's results depend on, in bench order.

    Each step says what it relies on (``Step.relies_on``); only gauges and thermometers have
    calibrations to check.
    """
    bench = procedure.bench
    channels: set[str] = set()
    leaks: set[str] = set()
    for step in walk((*procedure.setup, *procedure.main, *procedure.cleanup)):
        step_channels, step_leaks = step.relies_on(bench)
        channels.update(step_channels)
        leaks.update(step_leaks)
    ordered = [n for n in bench.channels if n in channels and bench.channels[n].measures in CALIBRATED]
    return ordered, [v for v in bench.valves if v in leaks]


def calibration_report(procedure: Procedure, today: dt.date) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each relied-on item's calibration with its status on ``today``, and the problems found."""
    bench = procedure.bench
    channels, leaks = relied_on(procedure)
    records: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name in channels:
        calibration = bench.calibrations.get(name)
        if calibration is None:
            records[name] = {"status": "missing"}
            problems.append(f"{name}: no calibration on record in bench {bench.name!r}")
            continue
        unit = "K" if bench.channels[name].measures == "temperature" else "relative"
        records[name] = {
            "certificate": calibration.certificate,
            "date": calibration.date.isoformat(),
            "due": calibration.due.isoformat(),
            "uncertainty": calibration.uncertainty,
            "uncertainty_unit": unit,
            "status": calibration.status(today),
        }
        if calibration.status(today) != "current":
            problems.append(_expired(name, calibration.certificate, calibration.due, today))
    for valve in leaks:
        leak = bench.reference_leaks.get(valve)
        if leak is None:
            records[valve] = {"status": "missing"}
            problems.append(f"{valve}: no certificate on record for the leak standard behind it")
            continue
        records[valve] = {
            "certificate": leak.certificate,
            "date": leak.date.isoformat(),
            "due": leak.due.isoformat(),
            "rate_pa_m3_s": leak.rate_pa_m3_s,
            "uncertainty": leak.uncertainty_rel,
            "uncertainty_unit": "relative",
            "gas": leak.gas,
            "temperature_k": leak.temperature_k,
            "status": leak.status(today),
        }
        if leak.status(today) != "current":
            problems.append(_expired(valve, leak.certificate, leak.due, today))
    return records, problems


def _expired(name: str, certificate: str, due: dt.date, today: dt.date) -> str:
    days = (today - due).days
    return f"{name}: calibration {certificate} expired on {due.isoformat()} ({days} days before {today})"


def calibration_day(bench: BenchSpec, simulated: bool) -> dt.date:
    """The day calibrations are judged on: the simulation's first day, or today."""
    start = bench.simulated_date() if simulated else None
    return start if start is not None else dt.date.today()
