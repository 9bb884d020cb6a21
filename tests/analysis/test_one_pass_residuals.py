"""The residuals' sums from one pass (issue 19) against the two-pass computation and exact arithmetic.

The fit no longer reads the data a second time for the residuals' sum of squares and lag-1 sum:
both come from co-moments accumulated in the same pass, on an ordinate held at the noise's scale by
a provisional slope. These tests hold it to the two-pass result it replaced and to exact rational
arithmetic, across chunk boundaries, dropouts, epoch time stamps and trends that dwarf the noise.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rig import _linfit
from rig.analysis import fit_decay
from rig.analysis.exponential import fit_exponential
from rig.analysis.linefit import LineFit, debiased_rho, fit_line, fit_line_compensated, fit_line_log
from tests.exact import exact_residual_sums

EPS = float(np.finfo(float).eps)
Array = npt.NDArray[np.float64]


def two_pass(t: Array, y: Array) -> tuple[int, float, float]:
    """The computation the one pass replaced, in float64: line from centred sums, then residuals."""
    keep = np.isfinite(t) & np.isfinite(y)
    tk, yk = t[keep], y[keep]
    dt, dy = tk - tk[0], yk - yk[0]
    mt, my = dt.mean(), dy.mean()
    b = np.sum((dt - mt) * (dy - my)) / np.sum((dt - mt) ** 2)
    r = (dy - my) - b * (dt - mt)
    return int(keep.sum()), float(np.sum(r * r)), float(np.sum(r[1:] * r[:-1]))


def sse_of(fit: LineFit) -> float:
    return fit.residual_std**2 * (fit.n - 2)


def epoch_decay(n: int, slope: float, noise: float, rho: float, seed: int) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.arange(n) * 0.1
    e = rng.normal(0.0, noise, n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + math.sqrt(1.0 - rho * rho) * e[i]
    temp = 293.0 + rng.normal(0.0, 0.01, n)
    return t, 1e5 + slope * (t - t[0]) + e, temp


@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_one_pass_equals_two_pass_across_chunks_and_dropouts(compensated: bool, rho: float) -> None:
    t, p, temp = epoch_decay(3000, -0.01, 0.5, rho, seed=5)
    p[[0, 255, 256, 511, 1000, 1001, 2999]] = np.nan
    temp[700] = np.inf
    t[[1500, 1501]] = np.nan
    if compensated:
        fit = fit_line_compensated(t, p, temp, 290.0)
        n, sse, lag = two_pass(t, p * 290.0 / temp)
    else:
        fit = fit_line(t, p)
        n, sse, lag = two_pass(t, p)
    assert fit.n == n and fit.n_skipped == 3000 - n
    assert sse_of(fit) == pytest.approx(sse, rel=1e-12)
    assert fit.rho1 == pytest.approx(debiased_rho(lag / sse, n), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 8, 9, 255, 256, 257, 511, 512, 513, 1025])
def test_every_length_around_the_vector_and_chunk_widths(n: int) -> None:
    t, p, _ = epoch_decay(n, -1e-3, 0.01, 0.3, seed=n)
    fit = fit_line(t, p)
    sse, lag = exact_residual_sums(list(t), list(p))
    assert sse_of(fit) == pytest.approx(float(sse), rel=1e-11)
    assert fit.rho1 == pytest.approx(debiased_rho(float(lag / sse), n), abs=1e-11)


def test_a_perfect_line_has_no_residual() -> None:
    t = np.arange(100.0)
    fit = fit_line(t, 5.0 + 0.25 * t)
    assert fit.slope == 0.25
    assert fit.residual_std == 0.0 and fit.slope_stderr == 0.0 and fit.rho1 == 0.0


def test_a_large_leak_seen_by_a_quiet_gauge_keeps_its_noise() -> None:
    """10 Pa/s for 500 s under 1e-4 Pa of noise: the trend's variance is 1e13 times the noise's.

    Residual sums taken from the raw moments (S_yy − S_ty²/S_tt) keep no digit of the noise there;
    the provisional slope keeps the ordinate at the noise's scale.
    """
    t, p, _ = epoch_decay(5000, -10.0, 1e-4, 0.5, seed=7)
    sse, lag = exact_residual_sums(list(t), list(p))
    m = _linfit.line_moments(t, p)
    naive_sse = m[8] - m[7] ** 2 / m[6]
    assert abs(naive_sse - float(sse)) > 1e-3 * float(sse)
    fit = fit_line(t, p)
    assert sse_of(fit) == pytest.approx(float(sse), rel=1e-9)
    assert fit.rho1 == pytest.approx(debiased_rho(float(lag / sse), fit.n), abs=1e-9)


def test_the_provisional_slope_follows_the_data_after_a_first_chunk_that_cannot_give_one() -> None:
    """A first chunk with one usable sample has no slope: the provisional one starts at 0 and must
    be moved to the data's as chunks come in, or the trend (10 Pa/s over 300 s against 1e-4 Pa of
    noise) stays in the ordinate and the residual sums lose the noise."""
    t, p, _ = epoch_decay(3000, -10.0, 1e-4, 0.0, seed=17)
    p[1:256] = np.nan
    keep = np.isfinite(p)
    sse, lag = exact_residual_sums(list(t[keep]), list(p[keep]))
    fit = fit_line(t, p)
    assert fit.n == keep.sum()
    assert sse_of(fit) == pytest.approx(float(sse), rel=1e-9)
    assert fit.rho1 == pytest.approx(debiased_rho(float(lag / sse), fit.n), abs=1e-9)


def test_a_long_series_keeps_its_provisional_slope_up_to_date() -> None:
    """Over 4e6 samples the first chunk's slope is off by more than the noise many times over; the
    state follows the data's slope chunk by chunk. Residual statistics do not change when an exact
    line is added: y = 1e6 − t + e and y + t are both exact in doubles (e on a 2⁻²⁰ grid)."""
    n = 4_000_000
    rng = np.random.default_rng(23)
    t = np.arange(n, dtype=np.float64)
    e = np.round(rng.normal(0.0, 0.05, n) * 2.0**20) / 2.0**20
    e[1:] += 0.5 * e[:-1]  # correlated, so that the lag-1 sum matters
    y = 1e6 - t + e
    assert np.array_equal((y + t) - 1e6, e)
    trended, flat = fit_line(t, y), fit_line(t, y + t)
    assert trended.slope == pytest.approx(flat.slope - 1.0, abs=1e-14)
    assert trended.residual_std == pytest.approx(flat.residual_std, rel=1e-12)
    assert trended.rho1 == pytest.approx(flat.rho1, abs=1e-12)


@st.composite
def decays(draw: st.DrawFn) -> tuple[Array, Array]:
    """Lines through AR(1) noise with dropouts: t, y."""
    n = draw(st.integers(min_value=3, max_value=700))
    t0 = draw(st.sampled_from([0.0, 3.5, 1.7e9]))
    step = draw(st.floats(min_value=1e-3, max_value=10.0))
    p0 = draw(st.floats(min_value=1.0, max_value=1.0e7))
    noise = p0 * draw(st.floats(min_value=1e-7, max_value=1e-2))
    trend_over_noise = draw(st.floats(min_value=0.0, max_value=1e6))
    slope = draw(st.sampled_from([-1.0, 1.0])) * trend_over_noise * noise / (step * n)
    rho = draw(st.floats(min_value=-0.9, max_value=0.95))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, noise, n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + math.sqrt(1.0 - rho * rho) * e[i]
    t = t0 + np.arange(n) * step
    y = p0 + slope * (t - t0) + e
    drops = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=6))
    y[drops] = np.nan
    # A gauge that drops out after its first reading: the first chunks may give no slope.
    gap = draw(st.integers(min_value=0, max_value=300))
    y[1 : 1 + gap] = np.nan
    assume(np.isfinite(y).sum() >= 3)
    return t, y


@settings(max_examples=200, deadline=None)
@given(decays())
def test_one_pass_matches_exact_arithmetic(case: tuple[Array, Array]) -> None:
    t, y = case
    keep = np.isfinite(y)
    tk, yk = list(t[keep]), list(y[keep])
    sse, lag = exact_residual_sums(tk, yk)
    assume(sse > 0)
    fit = fit_line(t, y)
    # What rounding can cost: the data's own ulp and the provisional line's product within a chunk
    # (|slope|·256 steps), relative to the residuals' scale.
    rms = math.sqrt(float(sse) / len(tk))
    scale = (np.spacing(np.nanmax(np.abs(y))) + EPS * abs(fit.slope) * 256 * (t[1] - t[0])) / rms
    rel = 1e-11 + 64.0 * scale
    assert sse_of(fit) == pytest.approx(float(sse), rel=rel)
    assert fit.rho1 == pytest.approx(debiased_rho(float(lag / sse), len(tk)), abs=4 * rel)


def test_compensated_and_log_fits_match_exact_arithmetic() -> None:
    t, p, temp = epoch_decay(900, -0.2, 0.05, 0.4, seed=11)
    y = p * 293.15 / temp  # rounded once, as the core rounds it
    sse, lag = exact_residual_sums(list(t), list(y))
    fit = fit_line_compensated(t, p, temp, 293.15)
    assert sse_of(fit) == pytest.approx(float(sse), rel=1e-11)
    assert fit.rho1 == pytest.approx(debiased_rho(float(lag / sse), 900), abs=1e-11)
    p_ext = 9.0e4
    y = np.log(p - p_ext)
    sse, lag = exact_residual_sums(list(t), list(y))
    line = fit_line_log(t, p, p_ext)
    assert sse_of(line) == pytest.approx(float(sse), rel=1e-10)
    assert line.rho1 == pytest.approx(debiased_rho(float(lag / sse), 900), abs=1e-10)
    assert fit_exponential(t, p, p_ext).line == line


def test_fit_decay_is_the_one_pass_line() -> None:
    t, p, temp = epoch_decay(2000, -1e-3, 0.01, 0.2, seed=13)
    assert fit_decay(t, p).line == fit_line(t, p)
    assert fit_decay(t, p, temp, t_ref_k=290.0).line == fit_line_compensated(t, p, temp, 290.0)


def test_the_result_is_a_frozen_dataclass_that_pickles() -> None:
    import dataclasses
    import pickle

    fit = fit_line(*epoch_decay(50, -1e-3, 0.01, 0.0, seed=1)[:2])
    assert dataclasses.is_dataclass(fit)
    moved = dataclasses.replace(fit, slope=fit.slope + 1.0)
    assert moved.slope == fit.slope + 1.0 and moved.n == fit.n
    assert pickle.loads(pickle.dumps(fit)) == fit
    with pytest.raises(AttributeError):
        fit.slope = 0.0  # type: ignore[misc]


def test_exact_reference_is_exact() -> None:
    sse, lag = exact_residual_sums([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.0, 3.0])
    # Line 0.9 t − 0.1 … residuals 0.1, 0.2, −0.7, 0.4 (exact fractions).
    assert sse == Fraction(7, 10) and lag == Fraction(-2, 5)
