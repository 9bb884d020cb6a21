"""What a run's certificate states, gathered from the run into one view model that both renderings use.

The run is read as a :class:`rig.record.run_record.RunRecord`. Fields that newer runs record
and older ones lack (operator, software, calibrations, the procedure's hash, uncertainty
budgets, comparisons …) are optional: an absent one reads "not recorded", never a guess. The
procedure's SHA-256 is computed from ``procedure.yaml`` when ``run.json`` does not carry it,
and a recorded hash that does not match the file is shown as a problem.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rig.outcome import Outcome
from rig.record.measurement import Comparison, Measurement
from rig.record.recorded import mapping
from rig.record.results import RunResults
from rig.record.run_record import RunRecord
from rig.report.certificate_plot import plot_inputs
from rig.report.measurement_view import (
    NEUTRAL_COLOUR,
    VERDICT_COLOURS,
    Fact,
    MeasurementView,
    measurement_view,
)
from rig.report.rate_text import LEAK_UNIT, format_number, rate_text_for
from rig.report.recorded_text import NOT_RECORDED, as_text, finite_number

OVERRIDE_TEXT = (
    "This run used instruments whose calibration had expired or was missing: {problems}. "
    "The operator overrode the check; the result is not traceable."
)


@dataclass(frozen=True)
class InstrumentRow:
    """An instrument of the bench: its model, the identity it reported, what it serves."""

    name: str
    model: str
    identity: str
    serves: str


@dataclass(frozen=True)
class CalibrationRow:
    """The calibration of one channel or reference leak; ``alert`` when expired or missing."""

    item: str
    instrument: str
    certificate: str
    date: str
    due: str
    uncertainty: str
    status: str
    alert: bool


@dataclass(frozen=True)
class Certificate:
    """Everything a certificate states, as text ready to render (no markup in any field)."""

    run_id: str
    verdict: str
    verdict_colour: str
    reason: str
    tested: list[Fact]
    provenance: list[Fact]
    instruments: list[InstrumentRow]
    calibrations: list[CalibrationRow]
    override: str | None
    measurements: list[MeasurementView]
    comparisons: list[str]
    ending: list[Fact]
    integrity: list[Fact]
    verify_hint: str
    issued: str
    generator: str


def _instruments(bench: Mapping[str, Any], identities: Mapping[str, Any]) -> list[InstrumentRow]:
    instruments = mapping(bench.get("instruments"))
    channels = mapping(bench.get("channels"))
    valves = mapping(bench.get("valves"))
    names = list(instruments) + [n for n in identities if n not in instruments]
    rows = []
    for name in names:
        spec = mapping(instruments.get(name))
        served = [c for c, s in channels.items() if mapping(s).get("instrument") == name]
        driven = [v for v, s in valves.items() if mapping(s).get("instrument") == name]
        parts = []
        if served:
            parts.append("channels " + ", ".join(served))
        if driven:
            parts.append("valves " + ", ".join(driven))
        rows.append(
            InstrumentRow(
                name=str(name),
                model=as_text(spec.get("model")),
                identity=as_text(identities.get(name)),
                serves="; ".join(parts) or "nothing named in the bench file",
            )
        )
    return rows


def _uncertainty(value: Any, unit: Any) -> str:
    """A calibration's uncertainty: a fraction of the reading as a percentage, else with its unit."""
    u = finite_number(value)
    if u is None:
        return as_text(value)
    if unit == "relative":
        return f"{100 * u:.3g} % of reading"
    return f"{u:g} {unit}" if isinstance(unit, str) and unit else f"{u:g}"


def _calibrations(calibrations: Mapping[str, Any], bench: Mapping[str, Any]) -> list[CalibrationRow]:
    channels = mapping(bench.get("channels"))
    rows = []
    for item, record in calibrations.items():
        record = mapping(record)
        instrument = mapping(channels.get(item)).get("instrument")
        if isinstance(instrument, str):
            served_by = instrument  # its model is in the instruments table
        else:
            # Not a channel: the leak standard behind a valve, with its certified rate when recorded.
            served_by = "reference leak"
            rate = finite_number(record.get("rate_pa_m3_s"))
            if rate is not None:
                served_by += f", {format_number(rate)} {LEAK_UNIT}"
            if record.get("gas"):
                served_by += f", {record['gas']}"
        status = as_text(record.get("status"))
        rows.append(
            CalibrationRow(
                item=str(item),
                instrument=served_by,
                certificate=as_text(record.get("certificate")),
                date=as_text(record.get("date")),
                due=as_text(record.get("due")),
                uncertainty=_uncertainty(record.get("uncertainty"), record.get("uncertainty_unit")),
                status=status,
                # Anything but a current calibration (expired, missing, unknown) is not traceable.
                alert=status != "current",
            )
        )
    return rows


def _comparison(c: Comparison, measurements: Mapping[str, Measurement]) -> str:
    """One before/after comparison in words."""

    def side(x: str | float | None) -> str:
        if isinstance(x, str):
            measured = measurements.get(x)
            value = finite_number(measured.value_pa_m3_s) if measured is not None else None
            rates = rate_text_for(measured) if measured is not None else None
            return f"{rates.both(value)} ({x})" if value is not None and rates else x
        v = finite_number(x)
        return f"{format_number(v)} {LEAK_UNIT}" if v is not None else NOT_RECORDED

    def factor_text(x: float | None) -> str | None:
        # The record writes an unbounded factor (a repaired leak indistinguishable from nil) as
        # infinity: that is a statement, not a missing number.
        if x is not None and math.isinf(x) and x > 0:
            return "unbounded"
        v = finite_number(x)
        return None if v is None else format_number(v)

    name = as_text(c.name)
    text = f"{name}: from {side(c.before)} to {side(c.after)}; "
    factor = factor_text(c.reduction_factor)
    if factor is None:
        text += "reduction factor not recorded"
    elif factor == "unbounded":
        text += "the leak after is indistinguishable from none, so the reduction factor has no upper bound"
    else:
        text += f"the leak rate fell by a factor of {factor}"
    if c.interval95 is not None:
        lo, hi = (factor_text(x) for x in c.interval95)
        if lo is not None and hi == "unbounded":
            text += f" (95 % interval: at least {lo})"
        elif lo is not None and hi is not None:
            text += f" (95 % interval {lo} to {hi})"
    return text + "."


def _faults(faults: Mapping[str, Any]) -> str:
    """The fault counts as one line ("none" when every count is zero)."""
    parts = []
    for kind, counts in faults.items():
        counts = mapping(counts)
        items = []
        for key, count in counts.items():
            if isinstance(count, Mapping):
                items += [f"{key} {k} {v}" for k, v in count.items() if v]
            elif count:
                items.append(f"{key} {count}")
        parts.append(f"{kind.replace('_', ' ')}: {', '.join(items) if items else 'none'}")
    return "; ".join(parts) if parts else NOT_RECORDED


def _version() -> str:
    try:
        return metadata.version("leakrig")
    except metadata.PackageNotFoundError:
        return "unknown"


def _tested(run: RunRecord, run_id: str) -> list[Fact]:
    """What was tested: the procedure, the bench, the run, and whether it was real."""
    info, procedure, bench = run.info, run.procedure, run.bench
    sim = info.get("sim")
    seed = info.get("seed")
    if sim is None:
        simulated = NOT_RECORDED
    elif sim:
        simulated = (
            f"yes: a simulated bench, not real hardware (seed {'none' if seed is None else as_text(seed)})"
        )
    else:
        simulated = "no: real instruments"
    article = mapping(info.get("article"))
    # Shown only when recorded: runs from before `rig run --part/--serial` name no article.
    tested_article = [
        Fact(label, as_text(article.get(key)), mono=True)
        for key, label in (("part", "part number"), ("serial", "serial number"))
        if article.get(key) is not None
    ]
    return [
        Fact("procedure", as_text(info.get("procedure") or procedure.get("procedure"))),
        Fact("procedure description", as_text(procedure.get("description"))),
        Fact("bench", as_text(info.get("bench") or bench.get("bench"))),
        Fact("bench description", as_text(bench.get("description"))),
        *tested_article,
        Fact("run", run_id, mono=True),
        Fact("started", as_text(info.get("started"))),
        # A simulated run proves the software, not the article: shown as a warning.
        Fact("simulated", simulated, alert=bool(sim)),
    ]


def _procedure_hash(recorded: Any, actual: str | None) -> Fact:
    """The procedure's SHA-256: the recorded one, checked against the file's (``actual``)."""
    if isinstance(recorded, str) and recorded:
        if actual is not None and actual != recorded.lower():
            return Fact(
                "procedure SHA-256",
                f"{recorded} recorded, but procedure.yaml in the run directory hashes to {actual}",
                alert=True,
                mono=True,
            )
        return Fact("procedure SHA-256", recorded, mono=True)
    if actual is not None:
        return Fact(
            "procedure SHA-256", f"{actual} (of procedure.yaml; the run did not record one)", mono=True
        )
    return Fact("procedure SHA-256", NOT_RECORDED, alert=True)


def _provenance(run: RunRecord) -> list[Fact]:
    """By whom and with what: the operator, the procedure's hash, the software, the calibration date."""
    info = run.info
    software = mapping(info.get("software"))
    return [
        Fact("operator", as_text(info.get("operator"))),
        _procedure_hash(info.get("procedure_sha256"), run.procedure_sha256),
        Fact(
            "software",
            ", ".join(f"{k} {v}" for k, v in software.items()) if software else NOT_RECORDED,
        ),
        Fact("calibrations judged on", as_text(info.get("calibration_checked_on"))),
    ]


def _ending(results: RunResults) -> list[Fact]:
    """How the run ended: the safe state, the faults, the leaking segment if one was found."""
    safe = results.safe_state_confirmed
    ending = [
        Fact(
            "safe state",
            "confirmed (relay readback and the pressures)"
            if safe is True
            else "NOT confirmed: check the bench before anyone touches it"
            if safe is False
            else NOT_RECORDED,
            alert=safe is not True,
        ),
        Fact("faults during the run", _faults(results.faults or {})),
    ]
    if results.leaking_segment is not None:
        ending.append(Fact("leaking segment", results.leaking_segment, alert=True))
    return ending


def _verify_hint(key: str) -> str:
    """How a reader checks the record against ``key`` (empty: the certificate is not signed)."""
    if not key:
        return "Without a signature nothing shows whether the run's records changed after the run."
    return (
        "The run directory is sealed: manifest.json holds the SHA-256 of every file in it and "
        "manifest.sig its signature by the private key that matches the public key above. To check "
        f"that nothing changed since, run `rig verify RUN_DIR --public-key {key}`: it prints OK, or "
        "names every file altered, added or removed. Plain `rig verify RUN_DIR` accepts only a key "
        "of the verifying machine's trust store (see `rig keys`); the key it prints must be the one above."
    )


def load_certificate(
    run_dir: Path, public_key_hex: str | None = None, now: datetime | None = None
) -> Certificate:
    """Gather what the certificate of the run in ``run_dir`` states, ready to render.

    ``public_key_hex`` is the key that verifies the run's signature (None: not signed);
    ``now`` the time of issue (default: now). A run without ``results.json`` (crashed or
    still running) has nothing to certify: :class:`rig.errors.InputError`.
    """
    run = RunRecord.load(run_dir)
    info, bench = run.info, run.bench
    results = run.results
    assert results is not None  # a finished run's record (RunRecord.load refuses one without)
    issued = (now or datetime.now(UTC)).astimezone()
    run_id = as_text(info.get("run_id", run.run_dir.name))
    verdict = (results.verdict or Outcome.ABORTED).value
    override = info.get("calibration_override")
    override_text = None
    if isinstance(override, list) and override:
        override_text = OVERRIDE_TEXT.format(problems="; ".join(str(p).rstrip(".") for p in override))
    measurements = run.measurements
    views = [
        measurement_view(
            name, measured, plot_inputs(name, measured, run.samples, run.steps, bench, run.procedure)
        )
        for name, measured in measurements.items()
    ]
    key = (public_key_hex or "").strip()
    integrity = [
        Fact(
            "public key (Ed25519, hex)", key or "none given: this certificate is not signed", mono=bool(key)
        ),
    ]
    return Certificate(
        run_id=run_id,
        verdict=verdict,
        verdict_colour=VERDICT_COLOURS.get(verdict, NEUTRAL_COLOUR),
        reason=as_text(results.reason),
        tested=_tested(run, run_id),
        provenance=_provenance(run),
        instruments=_instruments(bench, mapping(info.get("identities"))),
        calibrations=_calibrations(mapping(info.get("calibrations")), bench),
        override=override_text,
        measurements=views,
        comparisons=[_comparison(c, measurements) for c in results.comparisons],
        ending=_ending(results),
        integrity=integrity,
        verify_hint=_verify_hint(key),
        issued=issued.isoformat(timespec="seconds"),
        generator=f"leakrig {_version()} (Python {platform.python_version()})",
    )
