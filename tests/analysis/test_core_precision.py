"""The compiled fits against exact arithmetic on ill-conditioned inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig import _linfit
from rig._stream import StreamingFit
from tests.exact import exact_slope, naive_slope

EPOCH = 1.7e9


def _slope(moments: tuple[float, ...]) -> float:
    return moments[7] / moments[6]


def epoch_series(n: int, step: float, slope: float, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = EPOCH + np.arange(n) * step
    y = 1.0e5 + slope * (t - t[0]) + rng.normal(0.0, noise, n)
    return t, y


@pytest.mark.parametrize("n", [3, 10, 1000, 20000])
def test_epoch_times_and_1e5_pa_give_slope_to_1e_9(n: int) -> None:
    t, y = epoch_series(n, 0.1, -1e-6, 0.0, seed=n)
    exact = float(exact_slope(t, y))
    ours = _slope(_linfit.line_moments(t, y))
    assert abs(ours - exact) <= 1e-9 * abs(exact)


def test_naive_sums_fail_where_the_core_does_not() -> None:
    t, y = epoch_series(1000, 0.1, -1e-6, 0.0, seed=1)
    exact = float(exact_slope(t, y))
    naive_error = abs(naive_slope(list(t), list(y)) - exact) / abs(exact)
    assert naive_error > 1e-3  # the textbook formula is useless here
    assert abs(_slope(_linfit.line_moments(t, y)) - exact) <= 1e-9 * abs(exact)


def test_chunk_boundaries_and_dropouts_do_not_cost_precision() -> None:
    t, y = epoch_series(5000, 0.1, -1e-6, 1e-7, seed=3)
    y[[0, 1, 255, 256, 257, 1000, 4999]] = np.nan
    t[[300, 301]] = np.nan
    y[2000] = np.inf
    keep = np.isfinite(t) & np.isfinite(y)
    exact = float(exact_slope(t[keep], y[keep]))
    moments = _linfit.line_moments(t, y)
    assert moments[0] == keep.sum()
    assert moments[1] == (~keep).sum()
    assert abs(_slope(moments) - exact) <= 1e-9 * abs(exact)


@st.composite
def ill_conditioned_lines(draw: st.DrawFn) -> tuple[list[float], list[float], float]:
    """Large offsets in t and y, tiny slopes, a little noise: where naive sums break."""
    n = draw(st.integers(min_value=3, max_value=60))
    t0 = draw(st.floats(min_value=0.0, max_value=2.0e9))
    step = draw(st.floats(min_value=1e-3, max_value=100.0))
    p0 = draw(st.floats(min_value=1.0, max_value=1.0e7))
    slope_rel = draw(st.floats(min_value=1e-12, max_value=1e-3))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    noise_rel = draw(st.floats(min_value=0.0, max_value=0.3))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(n) * step
    slope = sign * slope_rel * p0 / step
    signal = slope * (t - t[0])
    span = abs(slope) * step * (n - 1)
    y = p0 + signal + rng.normal(0.0, noise_rel * span, n)
    return list(map(float, t)), list(map(float, y)), slope


def _tolerance(t: list[float], y: list[float], exact: float) -> float:
    # 1e-9 relative, or, where noise makes the slope itself ill-conditioned, a bound in
    # units of the rounding of the data: eps * sqrt(n) * |y - ybar| / (t spread).
    tt = np.array(t)
    yy = np.array(y)
    spread = float(np.sqrt(np.sum((tt - tt.mean()) ** 2)))
    scale = float(np.sqrt(np.sum((yy - yy.mean()) ** 2)))
    return max(1e-9 * abs(exact), 64 * np.finfo(float).eps * scale / spread)


@settings(max_examples=300, deadline=None)
@given(ill_conditioned_lines())
def test_plain_fit_matches_exact_arithmetic(case: tuple[list[float], list[float], float]) -> None:
    t, y, _ = case
    exact = float(exact_slope(t, y))
    ours = _slope(_linfit.line_moments(np.array(t), np.array(y)))
    assert abs(ours - exact) <= _tolerance(t, y, exact)


@settings(max_examples=150, deadline=None)
@given(ill_conditioned_lines(), st.floats(min_value=250.0, max_value=350.0), st.integers(0, 2**32 - 1))
def test_compensated_fit_matches_exact_arithmetic(
    case: tuple[list[float], list[float], float], t_ref: float, seed: int
) -> None:
    t, p, _ = case
    temp = list(map(float, 293.15 + np.random.default_rng(seed).normal(0.0, 0.01, len(t))))
    # The compensated ordinate is rounded once, as the core rounds it: p * t_ref / T.
    y = [pi * t_ref / ti for pi, ti in zip(p, temp, strict=True)]
    exact = float(exact_slope(t, y))
    ours = _slope(_linfit.line_moments_compensated(np.array(t), np.array(p), np.array(temp), t_ref))
    assert abs(ours - exact) <= _tolerance(t, y, exact)


@settings(max_examples=150, deadline=None)
@given(ill_conditioned_lines())
def test_log_fit_matches_exact_arithmetic(case: tuple[list[float], list[float], float]) -> None:
    t, p, _ = case
    p_ext = 0.5 * min(p)
    y = [math.log(pi - p_ext) for pi in p]
    exact = float(exact_slope(t, y))
    ours = _slope(_linfit.line_moments_log(np.array(t), np.array(p), p_ext))
    assert abs(ours - exact) <= _tolerance(t, y, exact)


@settings(max_examples=150, deadline=None)
@given(ill_conditioned_lines())
def test_streaming_fit_matches_exact_arithmetic(case: tuple[list[float], list[float], float]) -> None:
    t, y, _ = case
    exact = float(exact_slope(t, y))
    fit = StreamingFit()
    for ti, yi in zip(t, y, strict=True):
        fit.add(ti, yi)
    assert abs(fit.slope - exact) <= _tolerance(t, y, exact)


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        _linfit.line_moments(np.zeros(3), np.zeros(4))
