"""Speed of the compiled fits against SciPy/NumPy on the same 1e7 samples (see BENCHMARKS.md).

In CI these run once each with --benchmark-disable, as correctness tests: every
function's answer is checked. Timings come from `--benchmark-enable` runs, compared as
ratios within one run; `python -m tests.benchmarks.ratios` prints them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rig import _sliding
from rig.analysis import fit_decay
from rig.analysis.linefit import fit_line_compensated, fit_line_one_pass
from tests.benchmarks import fit_speed
from tests.benchmarks.conftest import SLOPE_PA_S, Series

WINDOW = 10_000


def _close(slope: float, reference: float, rel: float = 1e-6) -> None:
    assert slope == pytest.approx(reference, rel=rel)


@pytest.mark.benchmark(group="fit")
def test_fit_rig_one_pass(benchmark, series: Series) -> None:
    fit = benchmark(fit_line_one_pass, series.t, series.p)
    _close(fit.slope, SLOPE_PA_S, rel=1e-3)
    _close(fit.slope, stats.linregress(series.t - series.t[0], series.p).slope)


@pytest.mark.benchmark(group="fit")
def test_fit_rig_fit_decay_with_autocorrelation(benchmark, series: Series) -> None:
    fit = benchmark(fit_decay, series.t, series.p)
    _close(fit.slope_pa_s, fit_line_one_pass(series.t, series.p).slope, rel=1e-12)


@pytest.mark.benchmark(group="fit")
def test_fit_scipy_linregress(benchmark, series: Series) -> None:
    result = benchmark(stats.linregress, series.t, series.p)
    _close(result.slope, SLOPE_PA_S, rel=1e-3)


@pytest.mark.benchmark(group="fit")
def test_fit_numpy_polyfit(benchmark, series: Series) -> None:
    slope, _ = benchmark(np.polyfit, series.t, series.p, 1)
    _close(slope, SLOPE_PA_S, rel=1e-2)


@pytest.mark.benchmark(group="fit")
def test_fit_floor_numpy_dot(benchmark, series: Series) -> None:
    value = benchmark(np.dot, series.t, series.p)
    assert np.isfinite(value)


def _numpy_compensated(t: np.ndarray, p: np.ndarray, temperature: np.ndarray) -> float:
    return float(stats.linregress(t, p * 293.15 / temperature).slope)


@pytest.mark.benchmark(group="compensated")
def test_compensated_rig_one_pass(benchmark, series: Series) -> None:
    fit = benchmark(fit_line_one_pass, series.t, series.p, series.temperature, 293.15)
    _close(fit.slope, _numpy_compensated(series.t - series.t[0], series.p, series.temperature))


@pytest.mark.benchmark(group="compensated")
def test_compensated_rig_fit_decay_with_autocorrelation(benchmark, series: Series) -> None:
    fit = benchmark(fit_decay, series.t, series.p, series.temperature)
    _close(fit.slope_pa_s, fit_line_compensated(series.t, series.p, series.temperature, 293.15).slope, 1e-12)


@pytest.mark.benchmark(group="compensated")
def test_compensated_numpy_divide_then_linregress(benchmark, series: Series) -> None:
    slope = benchmark(_numpy_compensated, series.t, series.p, series.temperature)
    _close(slope, SLOPE_PA_S, rel=1e-2)


@pytest.mark.benchmark(group="compensated")
def test_compensated_floor_numpy_dot(benchmark, series: Series) -> None:
    assert np.isfinite(benchmark(np.dot, series.t, series.p))


@pytest.mark.benchmark(group="sliding")
def test_sliding_rig_window_1e4(benchmark, series: Series) -> None:
    slopes = benchmark(_sliding.sliding_slopes, series.t, series.p, WINDOW)
    assert slopes.shape == (series.t.size - WINDOW + 1,)
    for i in (0, 1, 12_345, slopes.size // 2, slopes.size - 1):
        window = slice(i, i + WINDOW)
        expected = stats.linregress(series.t[window] - series.t[i], series.p[window]).slope
        _close(slopes[i], expected, rel=1e-7)


@pytest.mark.benchmark(group="sliding")
def test_sliding_rig_window_1e4_into_buffer(benchmark, series: Series) -> None:
    out = np.empty(series.t.size - WINDOW + 1)
    slopes = benchmark(_sliding.sliding_slopes, series.t, series.p, WINDOW, out)
    assert slopes is out
    assert np.isfinite(out).all()


@pytest.mark.benchmark(group="sliding")
def test_sliding_single_fit(benchmark, series: Series) -> None:
    fit = benchmark(fit_line_one_pass, series.t, series.p)
    _close(fit.slope, SLOPE_PA_S, rel=1e-3)


@pytest.mark.benchmark(group="small")
def test_small_fit_decay_1e3_samples(benchmark) -> None:
    t, p, _ = fit_speed.series(1000, seed=7)
    fit = benchmark(fit_decay, t, p)
    assert fit.n == 1000 and fit.line.duration == pytest.approx(99.9)
    _close(fit.slope_pa_s, stats.linregress(t - t[0], p).slope, rel=1e-9)


def test_the_interleaved_script_times_every_contender_each_round() -> None:
    t, p, temperature = fit_speed.series(5000)
    seconds = fit_speed.rounds(fit_speed.contenders(t, p, temperature), 3)
    assert set(seconds) == {"floor", "fit_decay", "fit_decay_T", "linregress", "linregress_T"}
    assert all(len(s) == 3 and min(s) > 0.0 for s in seconds.values())
    rows = fit_speed.ratio_rows(seconds)
    assert len(rows) == len(fit_speed.RATIOS) and all(row.startswith("| ") for row in rows)


def test_the_per_sample_rows_cover_every_size() -> None:
    rows = fit_speed.per_sample_ns((1000, 4000))
    assert [row.split("|")[1].strip() for row in rows] == ["1e+03", "4e+03"]
