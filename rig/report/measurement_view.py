"""One measurement as its certificate states it: the numbers in words and units, the budget, the plot."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from rig.outcome import Outcome
from rig.record.measurement import E2930, Measurement, TestConditions
from rig.report.certificate_plot import PlotInputs, measurement_plot
from rig.report.rate_text import LEAK_UNIT, RateText, format_number, rate_text_for
from rig.report.recorded_text import NOT_RECORDED, as_text, finite_number

VERDICT_COLOURS: dict[str, str] = {
    Outcome.PASS: "#1b7f3b",
    Outcome.FAIL: "#c62828",
    Outcome.INCONCLUSIVE: "#e08a00",
    Outcome.ABORTED: "#c62828",
}
# A measurement without a limit ("MEASURED") decides nothing: neutral, not green.
NEUTRAL_COLOUR = "#455a64"
ALERT_COLOUR = "#c62828"
BUDGET_LABELS = {
    "fit": "fit (scatter of the samples)",
    "resolution": "gauge resolution",
    "volume": "volume",
    "gauge_calibration": "gauge calibration",
    "temperature": "temperature",
    "zero_drift": "gauge zero drift",
    "reference_leak": "leak standard's certificate",
    "combined": "combined standard uncertainty",
}


@dataclass(frozen=True)
class Fact:
    """One labelled fact; ``alert`` shows it in red, ``mono`` in a fixed-width font."""

    label: str
    value: str
    alert: bool = False
    mono: bool = False


@dataclass(frozen=True)
class BudgetRow:
    """One line of an uncertainty budget (``total`` for the combined uncertainty)."""

    component: str
    value: str
    relative: str
    total: bool


@dataclass(frozen=True)
class MeasurementView:
    """What the certificate says about one measurement, and its plot (PNG bytes) if it has one."""

    name: str
    outcome: str
    outcome_colour: str
    rows: list[Fact]
    budget: list[BudgetRow]
    e2930: str | None
    e2930_alert: bool
    refusal: str | None
    plot_png: bytes | None
    plot_caption: str

    @property
    def plot_b64(self) -> str | None:
        """The plot as base64 text for a data URI."""
        return base64.b64encode(self.plot_png).decode("ascii") if self.plot_png else None


def measurement_view(name: str, measured: Measurement, inputs: PlotInputs | None) -> MeasurementView:
    """What the certificate says of measurement ``name``, as recorded, and drawn from ``inputs``."""
    outcome = measured.outcome.value if measured.outcome is not None else NOT_RECORDED
    rates = rate_text_for(measured)
    unit = measured.unit or ""

    def rate(value: float | None) -> str | None:
        x = finite_number(value)
        if x is None:
            return None
        return rates.both(x) if rates else f"{format_number(x)} {unit}"

    rows: list[Fact] = []
    reference = measured.reference
    rows.append(Fact("leak rate", rate(measured.value_pa_m3_s) or NOT_RECORDED))
    if (stderr := rate(measured.stderr_pa_m3_s)) is not None:
        rows.append(Fact("standard uncertainty", stderr))
    if (expanded := rate(measured.expanded_uncertainty_pa_m3_s)) is not None:
        rows.append(Fact("expanded uncertainty (k = 2)", expanded))
    lcl, ucl = rate(measured.lcl95_pa_m3_s), rate(measured.ucl95_pa_m3_s)
    if lcl is not None or ucl is not None:
        rows.append(Fact("95 % lower bound (one-sided)", lcl or NOT_RECORDED))
        rows.append(Fact("95 % upper bound (one-sided)", ucl or NOT_RECORDED))
    limit = rate(measured.limit_pa_m3_s)
    rows.append(Fact("limit", limit or "none: measured for information, decides nothing"))
    if reference is not None and (certified := rate(reference.certified_pa_m3_s)) is not None:
        rows.append(Fact("certified rate of the reference leak", certified))
        tolerance = finite_number(reference.tolerance_relative)
        deviation = finite_number(reference.deviation_relative)
        if tolerance is not None:
            rows.append(Fact("tolerance", f"± {100 * tolerance:.3g} %"))
        if deviation is not None:
            rows.append(Fact("deviation from the certificate", f"{100 * deviation:+.3g} %"))
    if reference is not None and (background := rate(reference.background_pa_m3_s)) is not None:
        rows.append(Fact("background", background))
    rows.append(Fact("outcome", outcome, alert=outcome in (Outcome.FAIL, Outcome.ABORTED)))
    extra_time = finite_number(measured.additional_time_s)
    if extra_time is not None:
        rows.append(Fact("further test time that would decide it", f"{extra_time / 60.0:.3g} min"))
    if measured.channel is not None:
        where = measured.channel
        window = measured.window_s
        if window is not None and all(finite_number(w) is not None for w in window):
            w0, w1 = window
            where += f", {w0:g} s to {w1:g} s of the run ({(w1 - w0) / 60.0:.3g} min)"
        if measured.n is not None:
            where += f", {measured.n} samples"
        rows.append(Fact("channel and fit window", where))
    rows += condition_facts(measured.conditions)
    if measured.line is not None:
        t_ref = finite_number(measured.line.compensated_to_k)
        rows.append(
            Fact(
                "temperature compensation",
                f"yes: fit of p·{t_ref:g} K/T" if t_ref is not None else "none: fit of the raw pressure",
            )
        )
    if rates is not None:
        written = f"{rates.written_unit}, as the procedure states its limit; " if rates.written_unit else ""
        rows.append(
            Fact(
                "units",
                f"{written}pV throughput at {rates.pv_temperature_k:g} K; standard volumes (sccm) at 0 °C "
                "and 1 atm; mass flows (lb/day) of air",
            )
        )

    budget = _budget(measured, rates)
    e2930, e2930_alert = _e2930(measured.e2930, rates)
    refusal = measured.refusal
    refusal_text = None
    if refusal is not None and refusal.strip():
        # The engine words its refusals "not certified: …"; the certificate says that once.
        reason = re.sub(r"^\s*not certified\s*:\s*", "", refusal, flags=re.IGNORECASE)
        refusal_text = f"This measurement cannot be certified: {reason}"
    plot = measurement_plot(name, measured, inputs) if inputs is not None else None
    return MeasurementView(
        name=name,
        outcome=outcome,
        outcome_colour=VERDICT_COLOURS.get(outcome, NEUTRAL_COLOUR),
        rows=rows,
        budget=budget,
        e2930=e2930,
        e2930_alert=e2930_alert,
        refusal=refusal_text,
        plot_png=plot[0] if plot else None,
        plot_caption=plot[1] if plot else "",
    )


def _budget(measured: Measurement, rates: RateText | None) -> list[BudgetRow]:
    """The uncertainty budget's lines in a fixed order (unknown components after, combined last)."""
    budget = measured.uncertainty
    if budget is None or not budget.to_json():
        return []
    terms = budget.to_json()
    value = finite_number(measured.value_pa_m3_s)
    keys = [k for k in BUDGET_LABELS if k in terms and k != "combined"]
    keys += [k for k in terms if k not in BUDGET_LABELS]
    keys += ["combined"] if "combined" in terms else []
    rows = []
    for key in keys:
        u = finite_number(terms[key])
        if u is None:
            rows.append(BudgetRow(BUDGET_LABELS.get(key, key), NOT_RECORDED, "", key == "combined"))
            continue
        si = rates.si(u) if rates else u
        relative = f"{100 * u / abs(value):.3g} %" if value else ""
        rows.append(
            BudgetRow(
                BUDGET_LABELS.get(key, key.replace("_", " ")), format_number(si), relative, key == "combined"
            )
        )
    return rows


def _e2930(check: E2930 | None, rates: RateText | None) -> tuple[str | None, bool]:
    """The ASTM E2930 resolution line and whether it is a problem (not met)."""
    if check is None:
        return None, False

    def show(value: float | None) -> str:
        x = finite_number(value)
        if x is None:
            return as_text(value)
        if rates is not None and rates.written_unit:
            return rates.both(x)
        return f"{format_number(rates.si(x) if rates else x)} {LEAK_UNIT}"

    met = check.met
    verdict = "met" if met is True else "not met" if met is False else "not recorded whether met"
    resolution, required = show(check.test_resolution_pa_m3_s), show(check.required_pa_m3_s)
    text = f"ASTM E2930 test resolution {resolution} (required: {required}): {verdict}."
    return text, met is not True


def condition_facts(conditions: TestConditions | None) -> list[Fact]:
    """The test conditions as the certificate states them: gas, pressures, times, temperatures.

    A record from before the conditions were kept states none of them (no rows, not guesses).
    """
    if conditions is None:
        return []
    c = conditions
    rows = [Fact("test gas", c.gas or NOT_RECORDED)]
    start, end = finite_number(c.test_pressure_start_pa), finite_number(c.test_pressure_end_pa)
    if start is not None and end is not None:
        rows.append(
            Fact(
                "test pressure (measured, absolute)",
                f"{_pressure(start)} at the start of the window, {_pressure(end)} at its end",
            )
        )
    times = []
    fill = finite_number(c.fill_s)
    if fill is not None:
        times.append(f"{'pump-down' if c.fill_step == 'pump_down' else 'fill'} {_duration(fill)}")
    stabilisation = finite_number(c.stabilisation_s)
    if stabilisation is not None:
        times.append(f"stabilisation {_duration(stabilisation)}")
    test = finite_number(c.test_s)
    if test is not None:
        times.append(f"test {_duration(test)}")
    if times:
        rows.append(Fact("times", ", ".join(times)))
    low, high = finite_number(c.temperature_min_k), finite_number(c.temperature_max_k)
    if low is not None and high is not None:
        rows.append(
            Fact(
                "temperature over the window",
                f"{low - 273.15:.2f} °C to {high - 273.15:.2f} °C (span {high - low:.3g} K, "
                f"{as_text(c.temperature_channel)})",
            )
        )
    return rows


def _pressure(pa: float) -> str:
    """A pressure in kPa (Pa below 1 kPa), enough digits to tell a decay's start from its end."""
    return f"{pa / 1e3:.6g} kPa" if abs(pa) >= 1e3 else f"{pa:.4g} Pa"


def _duration(seconds: float) -> str:
    """A duration as a person reads it: s below two minutes, min below two hours, else h."""
    if seconds < 120.0:
        return f"{seconds:.3g} s"
    if seconds < 7200.0:
        return f"{seconds / 60.0:.3g} min"
    return f"{seconds / 3600.0:.3g} h"
