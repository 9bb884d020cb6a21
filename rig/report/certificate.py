"""The leak-test certificate of a run: a self-contained HTML page and an A4 PDF saying the same.

:func:`write_certificate` reads a run directory (``run.json``, ``results.json``,
``samples.csv``, ``procedure.yaml``, ``bench.yaml``), gathers what a reviewer needs into one
view model (:class:`Certificate`) and renders it twice: to HTML with jinja2 (autoescaped, CSS
inline, the plots as base64 PNG data URIs, so the one file is the whole certificate) and to a
PDF with reportlab (A4, "page i of n", tables that split across pages, plots scaled to the
text width). Both renderings come from the same view model, so they state the same facts.

Fields that newer runs record and older ones lack (operator, software, calibrations, the
procedure's hash, uncertainty budgets, comparisons …) are optional: an absent one reads
"not recorded", never a guess. The procedure's SHA-256 is computed from ``procedure.yaml``
when ``run.json`` does not carry it, and a recorded hash that does not match the file is
shown as a problem.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import platform
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rig.errors import InputError
from rig.record.atomic import write_atomically
from rig.record.run_store import read_samples
from rig.report.run_plot import FIT_COLOUR, FloatArray, RunSamples, decay_line, parse_samples
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, convert_leak_rate, leak_rate_unit_factor, to_si

NOT_RECORDED = "not recorded"
VERDICT_COLOURS = {"PASS": "#1b7f3b", "FAIL": "#c62828", "INCONCLUSIVE": "#e08a00", "ABORTED": "#c62828"}
# A measurement without a limit ("MEASURED") decides nothing: neutral, not green.
NEUTRAL_COLOUR = "#455a64"
ALERT_COLOUR = "#c62828"
LIMIT_COLOUR = "#c62828"
# Limits are parsed at 20 °C and fits are referred to it (rig.procedure.loader, rig.analysis):
# the temperature at which a recorded pV throughput is evaluated unless its line says otherwise.
DEFAULT_PV_TEMPERATURE_K = T_TWENTY_C_K
SCCM_REFERENCE_K = T_ZERO_C_K
LEAK_UNIT = "Pa·m³/s"
SCCM_UNIT = "sccm (0 °C)"
CONTEXT_FRACTION = 0.15  # how much of the run around a fit window its plot shows, per side
PLOT_SIZE_IN = (7.5, 4.6)
PLOT_DPI = 150
TEMPLATE = "templates/certificate.html.j2"
OVERRIDE_TEXT = (
    "This run used instruments whose calibration had expired or was missing: {problems}. "
    "The operator overrode the check; the result is not traceable."
)
BUDGET_LABELS = {
    "fit": "fit (scatter of the samples)",
    "resolution": "gauge resolution",
    "volume": "volume",
    "gauge_calibration": "gauge calibration",
    "temperature": "temperature",
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


# --------------------------------------------------------------------------- reading the run


def _read_json(path: Path, required: bool) -> dict[str, Any]:
    """A JSON object from ``path``; a missing or damaged optional file is an empty one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise InputError(
                f"{path}: missing (the run crashed, is still running, or this is no run)"
            ) from None
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if required:
            raise InputError(f"{path}: cannot read it ({exc})") from None
        return {}
    if not isinstance(data, dict):
        if required:
            raise InputError(f"{path}: expected a JSON object")
        return {}
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, or an empty one: a certificate reports what it can read."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN, but older records wrote it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _steps(procedure: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every step of a procedure as (kind, fields), nested ``repeat`` steps included."""
    out: list[tuple[str, Mapping[str, Any]]] = []

    def walk(steps: Any) -> None:
        if not isinstance(steps, list):
            return
        for step in steps:
            if not isinstance(step, Mapping) or len(step) != 1:
                continue
            ((kind, fields),) = step.items()
            fields = _mapping(fields)
            out.append((str(kind), fields))
            walk(fields.get("steps"))

    for section in ("setup", "main", "cleanup"):
        walk(procedure.get(section))
    return out


# --------------------------------------------------------------------------- numbers and units


def _num(x: float) -> str:
    """Three significant digits; a compact exponent (5.00e-4) outside [0.001, 10⁴)."""
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞" if x < 0 else "not a number"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@dataclass(frozen=True)
class _Rates:
    """Formats leak rates of one measurement in Pa·m³/s and in sccm at 0 °C."""

    to_pa_m3_s: float  # Pa·m³/s per unit of the entry's values
    pv_temperature_k: float

    def si(self, value: float) -> float:
        return value * self.to_pa_m3_s

    def sccm(self, value: float) -> float:
        return convert_leak_rate(
            self.si(value), "sccm", pv_temperature_k=self.pv_temperature_k, sccm_reference_k=SCCM_REFERENCE_K
        )

    def both(self, value: float) -> str:
        return f"{_num(self.si(value))} {LEAK_UNIT} = {_num(self.sccm(value))} {SCCM_UNIT}"


def _rates(entry: Mapping[str, Any]) -> _Rates | None:
    """How to read ``entry``'s values, or None if its unit is not a leak-rate unit we know."""
    line = _mapping(entry.get("line"))
    pv_t = _number(line.get("compensated_to_k")) or DEFAULT_PV_TEMPERATURE_K
    unit = entry.get("unit", "Pa*m**3/s")
    try:
        factor = leak_rate_unit_factor(str(unit), pv_temperature_k=pv_t, sccm_reference_k=SCCM_REFERENCE_K)
    except InputError:
        return None
    return _Rates(factor, pv_t)


# --------------------------------------------------------------------------- the decay plot


@dataclass(frozen=True)
class _PlotInputs:
    """What a measurement's plot needs beyond its entry: the samples and how to compensate them."""

    samples: RunSamples
    temperature_channel: str | None
    volume_m3: float | None
    direction: str  # "decay" or "rise": which way a leak at the limit moves the pressure


def _slope_for_rate(
    rate: float, value: float, slope: float, volume_m3: float | None, direction: str
) -> float | None:
    """The pressure slope (Pa/s) a leak of ``rate`` would give in the measurement's line.

    The fit's own numbers fix it exactly: Q = −sign·V·dp/dt, so a rate ``rate`` has slope
    slope·rate/value. A line of zero slope (a trace that never left one printed digit) gives
    no ratio; then the volume and the direction of the test do.
    """
    if value != 0.0 and slope != 0.0:
        return slope * rate / value
    if volume_m3:
        return (-1.0 if direction == "decay" else 1.0) * rate / volume_m3
    return None


def _decay_plot(name: str, entry: Mapping[str, Any], inputs: _PlotInputs) -> tuple[bytes, str] | None:
    """A PNG of one fitted measurement and its caption, or None when there is nothing to draw.

    The channel's samples over the fit window and a margin around it, the fitted line, the
    band between the lines at the one-sided 95 % bounds (pivoting at the window's middle,
    where a fitted line is best known), and dashed, the path a leak at the limit would
    follow from the fit's start. Pressures are shown relative to the fit's start, in Pa, so
    a decay of tens of pascals at 2 bar is visible at all.
    """
    line = decay_line(name, entry)
    samples = inputs.samples
    if (
        line is None
        or line.channel is None
        or line.channel not in samples.channels
        or samples.time_s.size == 0
    ):
        return None
    fit = _mapping(entry["line"])
    t0, intercept, slope = (float(fit[k]) for k in ("t0_s", "intercept_pa", "slope_pa_s"))
    w0, w1 = float(line.t_s[0]), float(line.t_s[-1])
    margin = CONTEXT_FRACTION * (w1 - w0)
    shown = (samples.time_s >= w0 - margin) & (samples.time_s <= w1 + margin)
    t = samples.time_s[shown]
    p = samples.channels[line.channel][shown]
    t_ref = _number(fit.get("compensated_to_k"))
    caption_p = f"samples of {line.channel}"
    ylabel = "pressure"
    if t_ref is not None:
        thermometer = inputs.temperature_channel
        if thermometer is not None and thermometer in samples.channels:
            # The line is a fit of p·T_ref/T: samples drawn as raw p would sit off it by the gas
            # temperature's offset from T_ref (0.05 % per 0.15 K: 100 Pa at 2 bar, more than a
            # repaired seal's whole decay).
            p = p * t_ref / samples.channels[thermometer][shown]
            caption_p += f" compensated to {t_ref:g} K with {thermometer} (p·{t_ref:g} K/T)"
            ylabel = f"p·{t_ref:g} K/T"
        else:
            caption_p += f" (not compensated: the fit is of p·{t_ref:g} K/T but its thermometer is unknown)"
    value = _number(entry.get("value"))
    if value is None:
        return None

    def p_fit(times: FloatArray) -> FloatArray:
        return intercept + slope * (times - t0)

    xs = np.linspace(w0, w1, 60)
    start = float(p_fit(np.array([w0]))[0])
    # The level printed in the axis label: rounded so the label stays short.
    ref = float(f"{start:.4g}")
    ref_text = f"{ref / 1e3:g} kPa" if abs(ref) >= 1e3 else f"{ref:g} Pa"

    def rel(pressures: FloatArray) -> FloatArray:
        return pressures - ref

    def minutes(times: FloatArray) -> FloatArray:
        return (times - w0) / 60.0

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PLOT_SIZE_IN, layout="constrained")
    try:
        inside = (t >= w0) & (t <= w1)
        outside_label, inside_label = "samples around the fit window", "samples in the fit window"
        ax.plot(minutes(t[~inside]), rel(p[~inside]), ".", ms=2, color="0.75", label=outside_label)
        ax.plot(minutes(t[inside]), rel(p[inside]), ".", ms=2, color="0.3", label=inside_label)
        y_span = [rel(p[inside])]
        lcl, ucl = _number(entry.get("lcl95")), _number(entry.get("ucl95"))
        direction = inputs.direction
        if lcl is not None and ucl is not None:
            tm = 0.5 * (w0 + w1)
            pm = float(p_fit(np.array([tm]))[0])
            edges = []
            for bound in (lcl, ucl):
                s = _slope_for_rate(bound, value, slope, inputs.volume_m3, direction)
                if s is not None:
                    edges.append(pm + s * (xs - tm))
            if len(edges) == 2:
                low, high = np.minimum(*edges), np.maximum(*edges)
                ax.fill_between(
                    minutes(xs),
                    rel(low),
                    rel(high),
                    color=FIT_COLOUR,
                    alpha=0.25,
                    lw=0,
                    label="leak rates between the one-sided 95 % bounds",
                )
                y_span += [rel(low), rel(high)]
        ax.plot(
            minutes(xs),
            rel(p_fit(xs)),
            "-",
            lw=2.2,
            color=FIT_COLOUR,
            label=f"fit: {_num(value)} {LEAK_UNIT}",
        )
        y_span.append(rel(p_fit(xs)))
        limit = _number(entry.get("limit"))
        limit_slope = (
            None if limit is None else _slope_for_rate(limit, value, slope, inputs.volume_m3, direction)
        )
        if limit is not None and limit_slope is not None:
            path = start + limit_slope * (xs - w0)
            ax.plot(
                minutes(xs),
                rel(path),
                "--",
                lw=1.6,
                color=LIMIT_COLOUR,
                label=f"a leak at the limit ({_num(limit)} {LEAK_UNIT})",
            )
            y_span.append(rel(path))
            rates = _rates(entry)
            note = f"limit: {_num(rates.sccm(limit))} {SCCM_UNIT}" if rates else f"limit: {_num(limit)}"
            # Written at the end of the dashed line, which is where the eye compares it with the fit.
            ax.annotate(
                note,
                (float(minutes(xs)[-1]), float(rel(path)[-1])),
                xytext=(-4, 4 if limit_slope > 0 else -4),
                textcoords="offset points",
                ha="right",
                va="bottom" if limit_slope > 0 else "top",
                fontsize=8,
                color=LIMIT_COLOUR,
            )
        finite = np.concatenate([a[np.isfinite(a)] for a in y_span])
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            pad = 0.08 * (hi - lo) or 1.0
            ax.set_ylim(lo - pad, hi + pad)
        ax.axvspan(0.0, (w1 - w0) / 60.0, color="0.5", alpha=0.06, lw=0)
        ax.set_xlim(float(minutes(np.array([w0 - margin]))[0]), float(minutes(np.array([w1 + margin]))[0]))
        ax.set_xlabel("time since the start of the fit window [min]")
        ax.set_ylabel(f"{ylabel} − {ref_text} [Pa]")
        ax.set_title(f"{name}: {entry.get('outcome', '?')}", fontsize=11)
        # Under the axes: inside, every corner is data for some run (a pump-down, a vent, the lines).
        fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PLOT_DPI)
    finally:
        plt.close(fig)
    around = f"{margin / 60.0:.3g} min"
    caption = (
        f"{caption_p[0].upper()}{caption_p[1:]} from {around} before to {around} after the "
        f"{(w1 - w0) / 60.0:.3g}-min fit window (shaded); the fitted line; the band of lines whose "
        "leak rates lie between the one-sided 95 % bounds"
    )
    caption += (
        "; dashed, the pressure path a leak at the limit would follow from the fit's start."
        if limit_slope is not None
        else "."
    )
    return buffer.getvalue(), caption


# --------------------------------------------------------------------------- the view model


def _measurement(name: str, entry: Mapping[str, Any], inputs: _PlotInputs | None) -> MeasurementView:
    outcome = str(entry.get("outcome", NOT_RECORDED))
    rates = _rates(entry)
    unit = str(entry.get("unit", ""))

    def rate(key: str) -> str | None:
        x = _number(entry.get(key))
        if x is None:
            return None
        return rates.both(x) if rates else f"{_num(x)} {unit}"

    rows: list[Fact] = []
    value = rate("value")
    rows.append(Fact("leak rate", value or NOT_RECORDED))
    if (stderr := rate("stderr")) is not None:
        rows.append(Fact("standard uncertainty", stderr))
    lcl, ucl = rate("lcl95"), rate("ucl95")
    if lcl is not None or ucl is not None:
        rows.append(Fact("95 % lower bound (one-sided)", lcl or NOT_RECORDED))
        rows.append(Fact("95 % upper bound (one-sided)", ucl or NOT_RECORDED))
    limit = rate("limit")
    rows.append(Fact("limit", limit or "none: measured for information, decides nothing"))
    if (certified := rate("certified")) is not None:
        rows.append(Fact("certified rate of the reference leak", certified))
        tolerance = _number(entry.get("tolerance_relative"))
        deviation = _number(entry.get("deviation_relative"))
        if tolerance is not None:
            rows.append(Fact("tolerance", f"± {100 * tolerance:.3g} %"))
        if deviation is not None:
            rows.append(Fact("deviation from the certificate", f"{100 * deviation:+.3g} %"))
    if (background := rate("background")) is not None:
        rows.append(Fact("background", background))
    rows.append(Fact("outcome", outcome, alert=outcome in ("FAIL", "ABORTED")))
    extra_time = _number(entry.get("additional_time_s"))
    if extra_time is not None:
        rows.append(Fact("further test time that would decide it", f"{extra_time / 60.0:.3g} min"))
    channel = entry.get("channel")
    window = entry.get("window_s")
    n = entry.get("n")
    if isinstance(channel, str):
        where = channel
        if isinstance(window, Sequence) and len(window) == 2 and all(_number(w) is not None for w in window):
            w0, w1 = float(window[0]), float(window[1])
            where += f", {w0:g} s to {w1:g} s of the run ({(w1 - w0) / 60.0:.3g} min)"
        if isinstance(n, int):
            where += f", {n} samples"
        rows.append(Fact("channel and fit window", where))
    line = _mapping(entry.get("line"))
    if line:
        t_ref = _number(line.get("compensated_to_k"))
        rows.append(
            Fact(
                "temperature compensation",
                f"yes: fit of p·{t_ref:g} K/T" if t_ref is not None else "none: fit of the raw pressure",
            )
        )
    if rates is not None:
        rows.append(
            Fact(
                "units",
                f"pV throughput at {rates.pv_temperature_k:g} K; sccm are standard cm³/min at 0 °C and 1 atm",
            )
        )

    budget = _budget(entry, rates)
    e2930, e2930_alert = _e2930(entry, rates)
    refusal = entry.get("refusal")
    refusal_text = None
    if isinstance(refusal, str) and refusal.strip():
        # The engine words its refusals "not certified: …"; the certificate says that once.
        reason = re.sub(r"^\s*not certified\s*:\s*", "", refusal, flags=re.IGNORECASE)
        refusal_text = f"This measurement cannot be certified: {reason}"
    plot = _decay_plot(name, entry, inputs) if inputs is not None else None
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


def _budget(entry: Mapping[str, Any], rates: _Rates | None) -> list[BudgetRow]:
    """The uncertainty budget's lines in a fixed order (unknown components after, combined last)."""
    budget = _mapping(entry.get("uncertainty"))
    if not budget:
        return []
    value = _number(entry.get("value"))
    keys = [k for k in BUDGET_LABELS if k in budget and k != "combined"]
    keys += [k for k in budget if k not in BUDGET_LABELS]
    keys += ["combined"] if "combined" in budget else []
    rows = []
    for key in keys:
        u = _number(budget[key])
        if u is None:
            rows.append(BudgetRow(BUDGET_LABELS.get(key, key), NOT_RECORDED, "", key == "combined"))
            continue
        si = rates.si(u) if rates else u
        relative = f"{100 * u / abs(value):.3g} %" if value else ""
        rows.append(
            BudgetRow(BUDGET_LABELS.get(key, key.replace("_", " ")), _num(si), relative, key == "combined")
        )
    return rows


def _e2930(entry: Mapping[str, Any], rates: _Rates | None) -> tuple[str | None, bool]:
    """The ASTM E2930 resolution line and whether it is a problem (not met)."""
    e = _mapping(entry.get("e2930"))
    if not e:
        return None, False

    def show(key: str) -> str:
        x = _number(e.get(key))
        if x is None:
            return _text(e.get(key))
        return f"{_num(rates.si(x) if rates else x)} {LEAK_UNIT}"

    met = e.get("met")
    verdict = "met" if met is True else "not met" if met is False else "not recorded whether met"
    text = f"ASTM E2930 test resolution {show('test_resolution')} (required: {show('required')}): {verdict}."
    return text, met is not True


def _instruments(bench: Mapping[str, Any], identities: Mapping[str, Any]) -> list[InstrumentRow]:
    instruments = _mapping(bench.get("instruments"))
    channels = _mapping(bench.get("channels"))
    valves = _mapping(bench.get("valves"))
    names = list(instruments) + [n for n in identities if n not in instruments]
    rows = []
    for name in names:
        spec = _mapping(instruments.get(name))
        served = [c for c, s in channels.items() if _mapping(s).get("instrument") == name]
        driven = [v for v, s in valves.items() if _mapping(s).get("instrument") == name]
        parts = []
        if served:
            parts.append("channels " + ", ".join(served))
        if driven:
            parts.append("valves " + ", ".join(driven))
        rows.append(
            InstrumentRow(
                name=str(name),
                model=_text(spec.get("model")),
                identity=_text(identities.get(name)),
                serves="; ".join(parts) or "nothing named in the bench file",
            )
        )
    return rows


def _uncertainty(value: Any, unit: Any) -> str:
    """A calibration's uncertainty: a fraction of the reading as a percentage, else with its unit."""
    u = _number(value)
    if u is None:
        return _text(value)
    if unit == "relative":
        return f"{100 * u:.3g} % of reading"
    return f"{u:g} {unit}" if isinstance(unit, str) and unit else f"{u:g}"


def _calibrations(calibrations: Mapping[str, Any], bench: Mapping[str, Any]) -> list[CalibrationRow]:
    channels = _mapping(bench.get("channels"))
    rows = []
    for item, record in calibrations.items():
        record = _mapping(record)
        instrument = _mapping(channels.get(item)).get("instrument")
        if isinstance(instrument, str):
            served_by = instrument  # its model is in the instruments table
        else:
            # Not a channel: the leak standard behind a valve, with its certified rate when recorded.
            served_by = "reference leak"
            rate = _number(record.get("rate_pa_m3_s"))
            if rate is not None:
                served_by += f", {_num(rate)} {LEAK_UNIT}"
            if record.get("gas"):
                served_by += f", {record['gas']}"
        status = _text(record.get("status"))
        rows.append(
            CalibrationRow(
                item=str(item),
                instrument=served_by,
                certificate=_text(record.get("certificate")),
                date=_text(record.get("date")),
                due=_text(record.get("due")),
                uncertainty=_uncertainty(record.get("uncertainty"), record.get("uncertainty_unit")),
                status=status,
                # Anything but a current calibration (expired, missing, unknown) is not traceable.
                alert=status != "current",
            )
        )
    return rows


def _comparison(c: Mapping[str, Any], measurements: Mapping[str, Any]) -> str:
    """One before/after comparison in words."""

    def side(x: Any) -> str:
        if isinstance(x, str):
            entry = _mapping(measurements.get(x))
            value = _number(entry.get("value"))
            rates = _rates(entry)
            return f"{rates.both(value)} ({x})" if value is not None and rates else x
        v = _number(x)
        return f"{_num(v)} {LEAK_UNIT}" if v is not None else NOT_RECORDED

    def factor_text(x: Any) -> str | None:
        # The record writes an unbounded factor (a repaired leak indistinguishable from nil) as
        # infinity: that is a statement, not a missing number.
        if isinstance(x, float) and math.isinf(x) and x > 0:
            return "unbounded"
        v = _number(x)
        return None if v is None else _num(v)

    name = _text(c.get("name"))
    text = f"{name}: from {side(c.get('before'))} to {side(c.get('after'))}; "
    factor = factor_text(c.get("reduction_factor"))
    if factor is None:
        text += "reduction factor not recorded"
    elif factor == "unbounded":
        text += "the leak after is indistinguishable from none, so the reduction factor has no upper bound"
    else:
        text += f"the leak rate fell by a factor of {factor}"
    interval = c.get("interval95")
    if isinstance(interval, Sequence) and len(interval) == 2:
        lo, hi = (factor_text(x) for x in interval)
        if lo is not None and hi == "unbounded":
            text += f" (95 % interval: at least {lo})"
        elif lo is not None and hi is not None:
            text += f" (95 % interval {lo} to {hi})"
    return text + "."


def _faults(faults: Mapping[str, Any]) -> str:
    """The fault counts as one line ("none" when every count is zero)."""
    parts = []
    for kind, counts in faults.items():
        counts = _mapping(counts)
        items = []
        for key, count in counts.items():
            if isinstance(count, Mapping):
                items += [f"{key} {k} {v}" for k, v in count.items() if v]
            elif count:
                items.append(f"{key} {count}")
        parts.append(f"{kind.replace('_', ' ')}: {', '.join(items) if items else 'none'}")
    return "; ".join(parts) if parts else NOT_RECORDED


def _plot_inputs(
    name: str,
    entry: Mapping[str, Any],
    samples: RunSamples | None,
    procedure: Mapping[str, Any],
    bench: Mapping[str, Any],
) -> _PlotInputs | None:
    """The samples, thermometer, volume and direction a measurement's plot needs."""
    if samples is None:
        return None
    step = next((f for _, f in _steps(procedure) if f.get("name") == name), {})
    channel = str(entry.get("channel"))
    thermometer = step.get("temperature")
    if not isinstance(thermometer, str):
        # No step names it (an older procedure format): a thermometer on the same volume.
        channels = _mapping(bench.get("channels"))
        volume = _mapping(channels.get(channel)).get("volume")
        thermometer = next(
            (
                c
                for c, s in channels.items()
                if _mapping(s).get("measures") == "temperature"
                and volume
                and _mapping(s).get("volume") == volume
            ),
            None,
        )
    volume_m3 = _number(entry.get("volume_m3"))
    size = _mapping(_mapping(bench.get("volumes")).get(str(step.get("volume")))).get("size")
    if volume_m3 is None and isinstance(size, str):
        try:
            volume_m3 = to_si(size, "volume", "volume")
        except InputError:
            volume_m3 = None
    direction = "rise" if step.get("direction") == "rise" else "decay"
    return _PlotInputs(samples, thermometer, volume_m3, direction)


def _version() -> str:
    try:
        return metadata.version("leakrig")
    except metadata.PackageNotFoundError:
        return "unknown"


def load_certificate(
    run_dir: Path, public_key_hex: str | None = None, now: datetime | None = None
) -> Certificate:
    """Gather what the certificate of the run in ``run_dir`` states, ready to render.

    ``public_key_hex`` is the key that verifies the run's signature (None: not signed);
    ``now`` the time of issue (default: now). A run without ``results.json`` (crashed or
    still running) has nothing to certify: :class:`rig.errors.InputError`.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    info = _read_json(run_dir / "run.json", required=False)
    results = _read_json(run_dir / "results.json", required=True)
    procedure = _read_yaml(run_dir / "procedure.yaml")
    bench = _read_yaml(run_dir / "bench.yaml")
    try:
        header, rows = read_samples(run_dir)
        samples: RunSamples | None = parse_samples(header, rows)
    except (OSError, InputError):
        # A certificate still states the numbers when the samples cannot be drawn.
        samples = None
    issued = (now or datetime.now(UTC)).astimezone()
    run_id = _text(info.get("run_id", run_dir.name))
    verdict = str(results.get("verdict") or "ABORTED")

    sim = info.get("sim")
    seed = info.get("seed")
    if sim is None:
        simulated = NOT_RECORDED
    elif sim:
        simulated = (
            f"yes: a simulated bench, not real hardware (seed {'none' if seed is None else _text(seed)})"
        )
    else:
        simulated = "no: real instruments"
    tested = [
        Fact("procedure", _text(info.get("procedure") or procedure.get("procedure"))),
        Fact("procedure description", _text(procedure.get("description"))),
        Fact("bench", _text(info.get("bench") or bench.get("bench"))),
        Fact("bench description", _text(bench.get("description"))),
        Fact("run", run_id, mono=True),
        Fact("started", _text(info.get("started"))),
        # A simulated run proves the software, not the article: shown as a warning.
        Fact("simulated", simulated, alert=bool(sim)),
    ]

    procedure_file = run_dir / "procedure.yaml"
    actual = hashlib.sha256(procedure_file.read_bytes()).hexdigest() if procedure_file.is_file() else None
    recorded = info.get("procedure_sha256")
    if isinstance(recorded, str) and recorded:
        if actual is not None and actual != recorded.lower():
            sha = Fact(
                "procedure SHA-256",
                f"{recorded} recorded, but procedure.yaml in the run directory hashes to {actual}",
                alert=True,
                mono=True,
            )
        else:
            sha = Fact("procedure SHA-256", recorded, mono=True)
    elif actual is not None:
        sha = Fact(
            "procedure SHA-256", f"{actual} (of procedure.yaml; the run did not record one)", mono=True
        )
    else:
        sha = Fact("procedure SHA-256", NOT_RECORDED, alert=True)
    software = _mapping(info.get("software"))
    provenance = [
        Fact("operator", _text(info.get("operator"))),
        sha,
        Fact(
            "software",
            ", ".join(f"{k} {v}" for k, v in software.items()) if software else NOT_RECORDED,
        ),
        Fact("calibrations judged on", _text(info.get("calibration_checked_on"))),
    ]

    calibrations = info.get("calibrations")
    override = info.get("calibration_override")
    override_text = None
    if isinstance(override, list) and override:
        override_text = OVERRIDE_TEXT.format(problems="; ".join(str(p).rstrip(".") for p in override))

    measurements = _mapping(results.get("measurements"))
    views = [
        _measurement(name, _mapping(entry), _plot_inputs(name, _mapping(entry), samples, procedure, bench))
        for name, entry in measurements.items()
    ]
    comparisons = [_comparison(_mapping(c), measurements) for c in results.get("comparisons") or []]

    safe = results.get("safe_state_confirmed")
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
        Fact("faults during the run", _faults(_mapping(results.get("faults")))),
    ]
    if results.get("leaking_segment"):
        ending.append(Fact("leaking segment", str(results["leaking_segment"]), alert=True))

    key = (public_key_hex or "").strip()
    integrity = [
        Fact(
            "public key (Ed25519, hex)", key or "none given: this certificate is not signed", mono=bool(key)
        ),
    ]
    verify_hint = (
        "The run directory is sealed: manifest.json holds the SHA-256 of every file in it and "
        "manifest.sig its signature by the private key that matches the public key above. To check "
        f"that nothing changed since, run `rig verify RUN_DIR --public-key {key}`: it prints OK, or "
        "names every file altered, added or removed. Plain `rig verify RUN_DIR` accepts only a key "
        "of the verifying machine's trust store (see `rig keys`); the key it prints must be the one above."
        if key
        else "Without a signature nothing shows whether the run's records changed after the run."
    )
    return Certificate(
        run_id=run_id,
        verdict=verdict,
        verdict_colour=VERDICT_COLOURS.get(verdict, NEUTRAL_COLOUR),
        reason=_text(results.get("reason")),
        tested=tested,
        provenance=provenance,
        instruments=_instruments(bench, _mapping(info.get("identities"))),
        calibrations=_calibrations(_mapping(calibrations), bench),
        override=override_text,
        measurements=views,
        comparisons=comparisons,
        ending=ending,
        integrity=integrity,
        verify_hint=verify_hint,
        issued=issued.isoformat(timespec="seconds"),
        generator=f"leakrig {_version()} (Python {platform.python_version()})",
    )


# --------------------------------------------------------------------------- HTML


def render_html(certificate: Certificate) -> str:
    """The certificate as one self-contained HTML page (every value autoescaped)."""
    import jinja2

    # Read through importlib.resources so an installed wheel (package data), a zip import and
    # an editable checkout all find the template the same way.
    source = resources.files("rig.report").joinpath(TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    template = env.from_string(source)
    return template.render(c=certificate, not_recorded=NOT_RECORDED)


# --------------------------------------------------------------------------- PDF


_FONTS: dict[str, str] = {}


def _fonts() -> dict[str, str]:
    """Register DejaVu (shipped with matplotlib) once: the base-14 PDF fonts lack −, ≤, → and Greek."""
    if _FONTS:
        return _FONTS
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {
        "regular": ("CertSans", "DejaVuSans.ttf"),
        "bold": ("CertSans-Bold", "DejaVuSans-Bold.ttf"),
        "italic": ("CertSans-Oblique", "DejaVuSans-Oblique.ttf"),
        "bolditalic": ("CertSans-BoldOblique", "DejaVuSans-BoldOblique.ttf"),
        "mono": ("CertMono", "DejaVuSansMono.ttf"),
    }
    try:
        for face, (name, filename) in faces.items():
            pdfmetrics.registerFont(TTFont(name, str(ttf / filename)))
            _FONTS[face] = name
    except (OSError, TTFError):
        # Without them the base-14 fonts still print every digit and unit but a few signs (−, ≤).
        _FONTS.clear()
        _FONTS.update(
            regular="Helvetica",
            bold="Helvetica-Bold",
            italic="Helvetica-Oblique",
            bolditalic="Helvetica-BoldOblique",
            mono="Courier",
        )
        return _FONTS
    # <b> and <i> inside a paragraph pick the family's faces.
    addMapping("CertSans", 0, 0, _FONTS["regular"])
    addMapping("CertSans", 1, 0, _FONTS["bold"])
    addMapping("CertSans", 0, 1, _FONTS["italic"])
    addMapping("CertSans", 1, 1, _FONTS["bolditalic"])
    return _FONTS


def _esc(text: str) -> str:
    """Text for a reportlab paragraph, whose markup is XML-like: ``<script>`` must stay text."""
    return html.escape(text, quote=False)


def _numbered_canvas(run_id: str, issued_date: str) -> Callable[..., Any]:
    """A canvas class that writes "page i of n" on every page once it knows n."""
    from reportlab.pdfgen.canvas import Canvas

    fonts = _fonts()

    class NumberedCanvas(Canvas):
        """Defers each page until the end so the footer can name the page count."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []
            # The PDF's dates say when the certificate was issued, not when the bytes were made,
            # so the same run and the same time of issue give the same file.
            self.setDateFormatter(lambda *_: issued_date)

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._saved.append(dict(self.__dict__))
            # What Canvas.showPage does after emitting a page: start the next (undeclared in the stubs).
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._saved)
            for number, state in enumerate(self._saved, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            from reportlab.lib.pagesizes import A4
            from reportlab.lib.units import mm

            self.saveState()
            self.setFont(fonts["regular"], 8)
            self.setFillGray(0.35)
            self.drawString(18 * mm, 10 * mm, f"Leak-test certificate · run {run_id}")
            self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as an A4 PDF: verdict on page 1, tables that split, plots at text width."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        Flowable,
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    fonts = _fonts()
    c = certificate
    body = ParagraphStyle("body", fontName=fonts["regular"], fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#555555"))
    mono = ParagraphStyle("mono", parent=body, fontName=fonts["mono"], fontSize=8.5)
    head = ParagraphStyle("head", parent=body, fontName=fonts["bold"], fontSize=9)
    title = ParagraphStyle(
        "title", parent=body, fontName=fonts["bold"], fontSize=20, leading=24, spaceAfter=8
    )
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=fonts["bold"], fontSize=13, leading=16, spaceBefore=12, spaceAfter=4
    )
    h3 = ParagraphStyle(
        "h3", parent=body, fontName=fonts["bold"], fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
    )
    verdict_style = ParagraphStyle(
        "verdict",
        parent=body,
        fontName=fonts["bold"],
        fontSize=30,
        leading=36,
        textColor=colors.white,
        alignment=TA_CENTER,
    )
    reason = ParagraphStyle("reason", parent=body, fontSize=12, leading=15, spaceBefore=6)
    alert_hex = ALERT_COLOUR

    doc = SimpleDocTemplate(
        io.BytesIO(),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Leak-test certificate, run {c.run_id}",
        author=c.generator,
        subject=f"{c.verdict}: {c.reason}",
        creator=c.generator,
        invariant=1,
    )
    width = doc.width

    def para(text: str, style: ParagraphStyle = body, alert: bool = False) -> Paragraph:
        markup = _esc(text)
        if alert:
            markup = f'<font color="{alert_hex}"><b>{markup}</b></font>'
        return Paragraph(markup, style)

    grid: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dddddd")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        # Narrower than reportlab's 6 pt: a date (2026-03-01) fits a seventh of the width.
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]

    def facts(rows: Sequence[Fact]) -> Table:
        data = [[para(r.label, label), para(r.value, mono if r.mono else body, r.alert)] for r in rows]
        table = Table(data, colWidths=[0.3 * width, 0.7 * width])
        table.setStyle(TableStyle(grid))
        return table

    def table(
        header: Sequence[str], rows: Sequence[Sequence[Paragraph]], fractions: Sequence[float]
    ) -> Table:
        data: list[list[Paragraph]] = [[para(h, head) for h in header], *[list(r) for r in rows]]
        # repeatRows: a table split across pages keeps its header on the next page.
        out = Table(data, colWidths=[f * width for f in fractions], repeatRows=1)
        out.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]))
        return out

    def boxed(text: str) -> Table:
        box = Table([[para(text, body, alert=True)]], colWidths=[width])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor(ALERT_COLOUR)),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fdecea")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        return box

    story: list[Flowable] = [para("Leak-test certificate", title)]
    # As wide as the verdict needs (INCONCLUSIVE is long), at least half the text width.
    verdict_width = stringWidth(c.verdict, fonts["bold"], verdict_style.fontSize) + 30
    banner_width = min(width, max(0.5 * width, verdict_width))
    banner = Table([[para(c.verdict, verdict_style)]], colWidths=[banner_width], hAlign="LEFT")
    banner.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(c.verdict_colour)),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    story += [banner, para(c.reason, reason)]

    story += [para("What was tested", h2), facts(c.tested)]
    story += [para("By whom, with what", h2), facts(c.provenance)]
    story.append(para("Instruments", h3))
    if c.instruments:
        rows = [[para(i.name), para(i.model), para(i.identity, mono), para(i.serves)] for i in c.instruments]
        story.append(
            table(["instrument", "model", "identity (incl. serial)", "serves"], rows, (0.14, 0.13, 0.4, 0.33))
        )
    else:
        story.append(para(NOT_RECORDED))
    story.append(para("Calibrations", h3))
    if c.calibrations:
        rows = [
            [
                para(k.item),
                para(k.instrument),
                para(k.certificate),
                para(k.date),
                para(k.due),
                para(k.uncertainty),
                para(k.status, alert=k.alert),
            ]
            for k in c.calibrations
        ]
        header = ["channel or leak", "instrument", "certificate", "date", "due", "uncertainty", "status"]
        story.append(table(header, rows, (0.12, 0.11, 0.26, 0.13, 0.13, 0.14, 0.11)))
    else:
        story.append(para(NOT_RECORDED))
    if c.override:
        story += [Spacer(1, 4), boxed(c.override)]

    story.append(para("Measurements", h2))
    if not c.measurements:
        story.append(para("No measurement was recorded."))
    for m in c.measurements:
        heading = Paragraph(f'{_esc(m.name)}: <font color="{m.outcome_colour}">{_esc(m.outcome)}</font>', h3)
        story.append(heading)
        if m.refusal:
            story += [boxed(m.refusal), Spacer(1, 4)]
        story.append(facts(m.rows))
        if m.e2930:
            story += [Spacer(1, 3), para(m.e2930, body, alert=m.e2930_alert)]
        if m.budget:
            rows = [
                [
                    para(b.component, head if b.total else body),
                    para(b.value, head if b.total else body),
                    para(b.relative, head if b.total else body),
                ]
                for b in m.budget
            ]
            story += [
                Spacer(1, 4),
                table(
                    ["uncertainty budget (standard uncertainties)", "Pa·m³/s", "of the value"],
                    rows,
                    (0.6, 0.22, 0.18),
                ),
            ]
        if m.plot_png:
            from reportlab.lib.utils import ImageReader

            reader = ImageReader(io.BytesIO(m.plot_png))
            px_w, px_h = reader.getSize()
            image = Image(io.BytesIO(m.plot_png), width=width, height=width * px_h / px_w)
            # The plot and its caption stay together; both fit on one page by construction.
            story.append(KeepTogether([Spacer(1, 6), image, para(m.plot_caption, small)]))

    if c.comparisons:
        story.append(para("Before and after", h2))
        story += [para("• " + line) for line in c.comparisons]

    story += [para("End of the run", h2), facts(c.ending)]
    story += [para("Integrity", h2), facts(c.integrity), Spacer(1, 4), para(c.verify_hint)]
    story += [Spacer(1, 10), para(f"{c.generator} · issued {c.issued}", small)]

    issued = datetime.fromisoformat(c.issued)
    offset = issued.utcoffset()
    minutes_east = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes_east >= 0 else "-"
    pdf_date = f"D:{issued:%Y%m%d%H%M%S}{sign}{abs(minutes_east) // 60:02d}'{abs(minutes_east) % 60:02d}'"
    doc.build(story, canvasmaker=_numbered_canvas(c.run_id, pdf_date))
    buffer = doc.filename
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


# --------------------------------------------------------------------------- files


def write_certificate(
    run_dir: Path, public_key_hex: str | None = None, now: datetime | None = None
) -> tuple[Path, Path]:
    """Write ``certificate.html`` and ``certificate.pdf`` into ``run_dir``; return their paths (HTML, PDF).

    ``public_key_hex`` is the hex of the public key that verifies the run's signature (shown
    with how to check it; None: the certificate says it is not signed). ``now`` is the time
    of issue printed on it and stamped in the PDF (default: now); the same run, key and
    ``now`` give byte-identical files. A run without results raises
    :class:`rig.errors.InputError`.
    """
    run_dir = Path(run_dir)
    certificate = load_certificate(run_dir, public_key_hex, now)
    html_path, pdf_path = run_dir / "certificate.html", run_dir / "certificate.pdf"
    try:
        write_atomically(html_path, render_html(certificate).encode("utf-8"))
        write_atomically(pdf_path, render_pdf(certificate))
    except OSError as exc:
        raise InputError(f"cannot write the certificate into {run_dir}: {exc.strerror or exc}") from None
    return html_path, pdf_path
