"""Plots that tell the truth: real simulated runs drawn, and the drawings read back from matplotlib.

The shipped ``compartment_isolation`` (six segments watched at once, two fits of p·T_ref/T) and
``pressure_decay`` (one fit of p·T_ref/T, a chamber gauge over range during the fill) are run
with ``rig run --sim`` over the real stack. Each test draws a run, asks the figure what it drew
(line colours, labels, y data, one axes per fit window) and writes the PNG; the images are also
copied to /tmp/plot_truth/ for a person to look at.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rig.analysis.decay import fit_decay
from rig.record.csv_series import Series
from rig.record.measurement import Measurement
from rig.record.run_record import RunRecord
from rig.report.certificate_plot import measurement_figure, plot_inputs
from rig.report.decay_plot import decay_figure
from rig.report.fit_view import (
    line_pa,
    measurement_label,
    over_range_spans,
    plain_number,
    temperature_at,
    value_pm,
    written_unit,
)
from rig.report.run_plot import draw_run, plot_run
from rig.report.window_panels import WINDOW_AXES_PREFIX, reference_level

ROOT = Path(__file__).resolve().parents[2]
FOR_PEOPLE = Path("/tmp/plot_truth")
LABEL = re.compile(
    r"^(?P<name>[\w.]+): (?P<value>-?\d+\.\d+) ± (?P<u>\d+\.\d+) \(k=2\) (?P<unit>\S+) · [A-Z]+$"
)


def simulated(tmp: Path, procedure: str) -> RunRecord:
    """``procedure`` run by ``rig run --sim --seed 3`` into ``tmp``, read back."""
    done = subprocess.run(
        [sys.executable, "-m", "rig", "run", str(ROOT / "procedures" / f"{procedure}.yaml"), "--sim",
         "--seed", "3", "--data-dir", str(tmp), "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # 1: a FAIL verdict, which the isolation run finds
    return RunRecord.load(Path(json.loads(done.stdout.strip().splitlines()[-1])["run_dir"]))


@pytest.fixture(scope="module")
def isolation(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    return simulated(tmp_path_factory.mktemp("isolation"), "compartment_isolation")


@pytest.fixture(scope="module")
def decay(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    return simulated(tmp_path_factory.mktemp("decay"), "pressure_decay")


def saved(fig: Figure, path: Path) -> Path:
    """``fig`` written to ``path`` as PNG (and a copy for people); the image is read back."""
    fig.savefig(path, dpi=100)
    FOR_PEOPLE.mkdir(exist_ok=True)
    shutil.copy(path, FOR_PEOPLE / path.name)
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 300
    return path


def overview(fig: Figure) -> Axes:
    (top,) = [ax for ax in fig.axes if ax.get_ylabel() in ("pressure [kPa]", "pressure [Pa]")]
    return top


def window_axes(fig: Figure) -> dict[str, Axes]:
    return {
        str(ax.get_label())[len(WINDOW_AXES_PREFIX) :]: ax
        for ax in fig.axes
        if str(ax.get_label()).startswith(WINDOW_AXES_PREFIX)
    }


def labelled(ax: Axes, start: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if str(line.get_label()).startswith(start)]


def clock_s(run: RunRecord, minutes: np.ndarray) -> np.ndarray:
    """A plot's time axis (minutes since the first sample) back in clock seconds."""
    assert run.samples is not None
    return np.asarray(minutes, dtype=float) * 60.0 + float(run.samples.time_s[0])


# --- numbers as a person reads them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expanded", "text"),
    [
        (-0.0, 0.3709, "0.00 ± 0.37"),  # the record's −0.0: no sign, no exponent
        (-1e-7, 0.084, "0.000 ± 0.084"),  # a value that rounds to zero loses its sign
        (0.62858, 0.31446, "0.63 ± 0.31"),  # two figures of U, the value to the same digit
        (5e-4, 2e-5, "(5.00 ± 0.20)×10⁻⁴"),
        (-1e-9, 3e-5, "(0.0 ± 3.0)×10⁻⁵"),
        (12345.0, 340.0, "(1.234 ± 0.034)×10⁴"),
        (1.0, None, "1"),
        (-0.0, None, "0"),
        (-0.0, 0.0, "0"),  # no usable uncertainty: the value alone
    ],
)
def test_value_and_uncertainty_are_rounded_together(value: float, expanded: float | None, text: str) -> None:
    assert value_pm(value, expanded) == text


def test_no_rounding_prints_a_negative_zero() -> None:
    for value in (-1e-12, -4e-3, -0.0, -4.9e-5):
        for expanded in (1e-2, 0.37, 3.0, 1e-4):
            shown = value_pm(value, expanded).lstrip("(").split(" ± ")[0]
            assert not shown.startswith("-") or float(shown) != 0.0, (value, expanded, shown)
    assert plain_number(-0.0) == "0" and plain_number(-1e-9) == "-1.00×10⁻⁹"
    assert "e+00" not in plain_number(-0.0)


def test_the_unit_is_the_one_the_procedure_wrote(isolation: RunRecord, decay: RunRecord) -> None:
    entry = {"value": 5e-4, "stderr": 1e-5, "outcome": "PASS"}
    measured = Measurement.from_json("m", entry)
    # As recorded in results.json, and read from the procedure by the step's name for an older record.
    assert isolation.results is not None and isolation.results.measurements is not None
    assert isolation.results.measurements["isolation.prk"].written_unit == "lb/day"
    assert written_unit("isolation.prk", measured, isolation.procedure) == "lb/day"
    assert written_unit("decay", measured, decay.procedure) == "sccm"
    assert written_unit("nothing", measured, decay.procedure) is None
    # A limit in a unit that is no leak rate (a typo the loader would refuse) is not used.
    typo = {"main": [{"measure_decay": {"name": "m", "limit": "5 kPa"}}]}
    assert written_unit("m", measured, typo) is None
    assert measurement_label("m", measured) == "m: (5.00 ± 0.20)×10⁻⁴ (k=2) Pa·m³/s · PASS"
    # 5e-4 Pa·m³/s of air at 293.15 K is 1.132e-3 lb/day.
    assert measurement_label("m", measured, "lb/day") == "m: (1.132 ± 0.045)×10⁻³ (k=2) lb/day · PASS"
    assert measurement_label("m", measured, "furlongs") == "m: (5.00 ± 0.20)×10⁻⁴ (k=2) Pa·m³/s · PASS"
    assert (
        measurement_label("m", Measurement.from_json("m", {"outcome": "INCONCLUSIVE"}))
        == "m: no value · INCONCLUSIVE"
    )


# --- the run plot ---------------------------------------------------------------------------------


def test_each_measurement_has_its_colour_and_a_readable_label(isolation: RunRecord, tmp_path: Path) -> None:
    fig = draw_run(isolation)
    saved(fig, tmp_path / "isolation_run.png")
    fits = labelled(overview(fig), "isolation.")
    assert len(fits) == len(isolation.measurements) == 6
    assert len({line.get_color() for line in fits}) == 6  # one colour each
    for line in fits:
        first = str(line.get_label()).splitlines()[0]
        match = LABEL.match(first)
        assert match is not None, first
        assert match["unit"] == "lb/day"  # the procedure's "limit: 0.1 lb/day"
        assert "e+00" not in first and not re.search(r"(?<![\d.])-0\.0+ ", first)
    # The leaking segment's value, in lb/day of air at 293.15 K, and its verdict.
    (prk,) = labelled(overview(fig), "isolation.prk:")
    expected = measurement_label("isolation.prk", isolation.measurements["isolation.prk"], "lb/day")
    assert re.fullmatch(r"isolation\.prk: \d\.\d\d ± 0\.\d\d \(k=2\) lb/day · FAIL", expected), expected
    assert str(prk.get_label()).startswith(expected)


def test_a_compensated_fit_is_carried_back_onto_the_raw_pressure(isolation: RunRecord) -> None:
    samples, measured = isolation.samples, isolation.measurements["isolation.prk"]
    assert samples is not None and measured.line is not None
    assert measured.line.compensated_to_k == 293.15
    (drawn,) = labelled(overview(draw_run(isolation)), "isolation.prk:")
    assert "a fit of p·293.15 K/T, drawn as p with t_prk" in str(drawn.get_label())
    t = clock_s(isolation, np.asarray(drawn.get_xdata()))
    p_drawn = np.asarray(drawn.get_ydata()) * 1e3  # kPa on the overview
    expected = line_pa(measured.line, t) * temperature_at(samples, "t_prk", t) / 293.15
    np.testing.assert_allclose(p_drawn, expected, rtol=1e-12)
    # The drawn line runs through the raw samples; the fitted quantity itself sits hundreds of Pa
    # below them (the gas is ~2 K above T_ref): the old plot's line, below the data.
    raw = np.interp(t, samples.time_s, samples.channels["p_prk"])
    assert np.median(np.abs(p_drawn - raw)) < 15.0
    assert np.median(raw - line_pa(measured.line, t)) > 300.0


def test_one_panel_per_fit_window_shows_the_fitted_quantity(isolation: RunRecord) -> None:
    fig = draw_run(isolation)
    panels = window_axes(fig)
    assert set(panels) == set(isolation.measurements)
    samples = isolation.samples
    assert samples is not None
    fit_colours = {
        str(line.get_label()).split(":")[0]: line.get_color() for line in labelled(overview(fig), "iso")
    }
    for name, ax in panels.items():
        measured = isolation.measurements[name]
        assert measured.line is not None and measured.window_s is not None and measured.channel is not None
        (line,) = labelled(ax, "fit of ")
        assert line.get_color() == fit_colours[name]  # the panel's line is the overview's colour
        level = reference_level(measured.line, measured.window_s[0])
        t = clock_s(isolation, np.asarray(line.get_xdata()))
        # y data of the line is the fitted quantity itself (drawn relative to ``level``).
        np.testing.assert_allclose(np.asarray(line.get_ydata()) + level, line_pa(measured.line, t), atol=1e-6)
        assert measured.window_s[0] == pytest.approx(t[0]) and measured.window_s[1] == pytest.approx(t[-1])
        # Zoomed: the y range is the window's, not the run's (a few hundred Pa at most, not kPa).
        low, high = ax.get_ylim()
        assert high - low < 1500.0
        (dots,) = [d for d in ax.get_lines() if d.get_linestyle() == "None" and d.get_marker() == "."]
        ts = clock_s(isolation, np.asarray(dots.get_xdata()))
        ys = np.asarray(dots.get_ydata()) + level
        compensated = measured.line.compensated_to_k is not None
        assert ax.get_ylabel().startswith("p·293.15 K/T − " if compensated else "p − ")
        assert ax.get_title().splitlines()[0] == name
        residual = ys - line_pa(measured.line, ts)
        inside = (ts >= measured.window_s[0]) & (ts <= measured.window_s[1])
        assert abs(float(np.nanmedian(residual[inside]))) < 10.0  # the samples the line was fitted to
    # The leaking segment's panel shows its decay: the line falls by more than its samples' spread.
    prk = panels["isolation.prk"]
    (line,) = labelled(prk, "fit of p·293.15 K/T")
    y = np.asarray(line.get_ydata())
    assert y[0] - y[-1] > 500.0


def test_a_pressure_decay_run_plot(decay: RunRecord, tmp_path: Path) -> None:
    out = plot_run(decay, tmp_path / "pressure_decay_run.png")
    saved(draw_run(decay), out)
    fig = draw_run(decay)
    (fit,) = labelled(overview(fig), "decay:")
    assert LABEL.match(str(fit.get_label()).splitlines()[0])["unit"] == "sccm"  # type: ignore[index]
    assert list(window_axes(fig)) == ["decay"]
    # The chamber gauge reads nothing while over range in the fill: the run's range events draw
    # that as a span, and none of its gaps is a dropout.
    samples = decay.samples
    assert samples is not None
    assert int(np.count_nonzero(~np.isfinite(samples.channels["p_chamber"]))) > 0
    spans = [p for p in overview(fig).patches if p.get_label() == "p_chamber: over range"]
    assert len(spans) == 1
    assert not labelled(overview(fig), "p_chamber: no reading")


def test_over_range_events_are_shown_as_such(decay: RunRecord, tmp_path: Path) -> None:
    """The hook for the over-range event: a span per event, named for its channel."""
    run_dir = tmp_path / "run"
    shutil.copytree(decay.run_dir, run_dir)
    # The run's own range events set aside: these say p_chamber was over range from t0 + 5 s to
    # t0 + 200 s only, so its other gaps are dropouts.
    kept = [
        e for e in (run_dir / "events.jsonl").read_text().splitlines() if json.loads(e)["kind"] != "range"
    ]
    (run_dir / "events.jsonl").write_text("".join(e + "\n" for e in kept))
    samples = decay.samples
    assert samples is not None
    t0 = float(samples.time_s[0])
    # As rig.engine.range_watch tells it: the channel left its range, and came back.
    left = {"t": t0 + 5.0, "kind": "range", "channel": "p_chamber", "state": "over range", "message": "x"}
    back = {"t": t0 + 200.0, "kind": "range", "channel": "p_chamber", "state": "in range", "message": "y"}
    with (run_dir / "events.jsonl").open("a") as events:
        events.write(json.dumps(left) + "\n" + json.dumps(back) + "\n")
    assert over_range_spans([left, {"t": 1.0, "kind": "fault"}, back]) == {
        "p_chamber": [(t0 + 5.0, t0 + 200.0)]
    }
    # One still open at the end closes at the run's last sample.
    assert over_range_spans([left], end_s=t0 + 900.0) == {"p_chamber": [(t0 + 5.0, t0 + 900.0)]}
    fig = draw_run(RunRecord.load(run_dir))
    spans = [p for p in overview(fig).patches if p.get_label() == "p_chamber: over range"]
    assert len(spans) == 1
    # The gaps the span covers are its own; those outside it are dropouts.
    assert samples is not None
    gaps = samples.time_s[~np.isfinite(samples.channels["p_chamber"])]
    outside = int(np.count_nonzero((gaps < t0 + 5.0) | (gaps > t0 + 200.0)))
    assert 0 < outside < gaps.size
    (marks,) = labelled(overview(fig), "p_chamber: no reading")
    assert str(marks.get_label()) == f"p_chamber: no reading ×{outside} (dropout)"
    saved(fig, tmp_path / "over_range_run.png")


# --- the certificate's plot -----------------------------------------------------------------------


def test_the_certificate_plot_follows_the_same_rules(isolation: RunRecord, tmp_path: Path) -> None:
    name = "isolation.prk"
    measured = isolation.measurements[name]
    inputs = plot_inputs(
        name, measured, isolation.samples, isolation.steps, isolation.bench, isolation.procedure
    )
    assert inputs is not None and inputs.unit == "lb/day" and inputs.temperature_channel == "t_prk"
    drawn = measurement_figure(name, measured, inputs)
    assert drawn is not None
    fig, caption = drawn
    saved(fig, tmp_path / "certificate_prk.png")
    (ax,) = fig.axes
    (fit,) = labelled(ax, "fit of ")
    label = measurement_label(name, measured, "lb/day").split(": ", 1)[1]
    assert str(fit.get_label()) == f"fit of p·293.15 K/T: {label}" and label.endswith("lb/day · FAIL")
    (limit,) = labelled(ax, "a leak at the limit")
    assert str(limit.get_label()) == "a leak at the limit (0.1 lb/day = 0.0442 Pa·m³/s)"
    assert any(t.get_text() == "limit: 0.1 lb/day" for t in ax.texts)
    assert "compensated to 293.15 K with t_prk" in caption
    # The samples drawn are p·T_ref/T: the fitted line runs through them.
    assert measured.line is not None and measured.window_s is not None
    (inside,) = labelled(ax, "samples in the fit window")
    ys = np.asarray(inside.get_ydata())
    line_y = np.interp(
        np.asarray(inside.get_xdata()), np.asarray(fit.get_xdata()), np.asarray(fit.get_ydata())
    )
    assert abs(float(np.nanmedian(ys - line_y))) < 10.0


def test_the_certificate_plot_marks_samples_with_no_reading(decay: RunRecord, tmp_path: Path) -> None:
    """A dropout inside the fit window is marked on the certificate's plot, and counted."""
    run_dir = tmp_path / "run"
    shutil.copytree(decay.run_dir, run_dir)
    measured = decay.measurements["decay"]
    assert measured.window_s is not None
    text = (run_dir / "samples.csv").read_text().splitlines()
    header = text[0].split(",")
    column = header.index("p_article")
    blanked = 0
    for i, row in enumerate(text[1:], start=1):
        cells = row.split(",")
        if measured.window_s[0] + 100.0 <= float(cells[0]) < measured.window_s[0] + 103.0:
            cells[column] = ""
            text[i] = ",".join(cells)
            blanked += 1
    assert blanked > 0
    (run_dir / "samples.csv").write_text("\n".join(text) + "\n")
    run = RunRecord.load(run_dir)
    inputs = plot_inputs("decay", measured, run.samples, run.steps, run.bench, run.procedure)
    assert inputs is not None
    drawn = measurement_figure("decay", measured, inputs)
    assert drawn is not None
    (ax,) = drawn[0].axes
    (marks,) = labelled(ax, "no reading")
    assert str(marks.get_label()) == f"no reading ({blanked}: dropout or over range)"
    assert str(labelled(ax, "fit of ")[0].get_label()).endswith("(k=2) sccm · PASS")
    saved(drawn[0], tmp_path / "certificate_decay.png")
    assert not math.isnan(float(np.nanmax(np.asarray(labelled(ax, "samples in")[0].get_ydata()))))


# --- rig analyze --plot ---------------------------------------------------------------------------


def test_the_analyze_plot_draws_the_compensated_quantity(tmp_path: Path) -> None:
    """A series with temperatures is fitted as p·T_ref/T: the samples drawn are that, under its line."""
    t = np.arange(600.0)
    kelvin = 295.0 + 0.5 * np.sin(t / 90.0)  # 2 K above T_ref: raw p sits ~0.6 % off the fit
    p = (2e5 - 0.3 * t) * kelvin / 293.15 + np.random.default_rng(1).normal(0.0, 0.5, t.size)
    series = Series(t, p, kelvin, "synthetic.csv")
    fit = fit_decay(t, p, kelvin, volume_m3=1e-3, t_ref_k=293.15)
    fig = decay_figure(series, fit, None)
    saved(fig, tmp_path / "analyze.png")
    top = fig.axes[0]
    (line,) = labelled(top, "fit of p·293.15 K/T: Q = ")
    # 0.3 Pa/s in 1 L is 3.0e-4 Pa·m³/s; U to two figures, the value to the same digit.
    label = str(line.get_label())
    assert re.fullmatch(
        r"fit of p·293\.15 K/T: Q = \((2\.99|3\.00)\d\d ± 0\.00\d\d\)×10⁻⁴ \(k=2\) Pa·m³/s", label
    )
    (dots,) = labelled(top, "samples")
    np.testing.assert_allclose(np.asarray(dots.get_ydata()), p * 293.15 / kelvin)
    assert float(np.median(np.abs(np.asarray(dots.get_ydata()) - np.asarray(line.get_ydata())))) < 2.0
    assert top.get_ylabel() == "p·293.15 K/T [Pa]"
