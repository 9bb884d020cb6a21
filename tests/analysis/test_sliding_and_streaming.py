"""Sliding-window slopes (O(n)) and the streaming accumulator against direct fits."""

from __future__ import annotations

import numpy as np
import pytest

from rig._stream import StreamingFit
from rig.analysis import LiveLeakRate, fit_decay, sliding_slopes
from tests.exact import exact_slope


def direct(t: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    out = np.full(t.size - window + 1, np.nan)
    for i in range(out.size):
        tt, yy = t[i : i + window], y[i : i + window]
        keep = np.isfinite(tt) & np.isfinite(yy)
        if keep.sum() >= 2:
            out[i] = float(exact_slope(tt[keep], yy[keep]))
    return out


@pytest.mark.parametrize("window", [2, 3, 7, 64])
def test_every_window_matches_an_exact_fit(window: int) -> None:
    rng = np.random.default_rng(window)
    t = 1.7e9 + np.cumsum(rng.uniform(0.05, 0.15, 400))
    y = 1e5 - 1e-3 * (t - t[0]) + rng.normal(0.0, 1e-3, t.size)
    y[rng.choice(t.size, 40, replace=False)] = np.nan
    ours = sliding_slopes(t, y, window)
    ref = direct(t, y, window)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.abs(ref[ok]).max()
    assert np.max(np.abs(ours[ok] - ref[ok])) <= 1e-7 * scale


def centred_slope(t: np.ndarray, y: np.ndarray) -> float:
    tt = t - t[0]
    yy = y - y[0]
    dt = tt - tt.mean()
    return float(np.sum(dt * (yy - yy.mean())) / np.sum(dt * dt))


@pytest.mark.parametrize(("n", "window"), [(50, 2), (1001, 5), (5003, 64), (20_011, 1000), (30, 27)])
def test_fast_path_matches_two_pass_reference(n: int, window: int) -> None:
    # No dropouts: every lane runs the SIMD kernel, with the tails and lane ends of odd sizes.
    rng = np.random.default_rng(n)
    t = 1.7e9 + np.cumsum(rng.uniform(0.05, 0.15, n))
    y = 1e5 + 3e-3 * (t - t[0]) + rng.normal(0.0, 1e-2, n)
    ours = sliding_slopes(t, y, window)
    picks = np.unique(np.r_[0, 1, 2, 3, 4, rng.integers(0, ours.size, 200), ours.size - 2, ours.size - 1])
    picks = picks[(picks >= 0) & (picks < ours.size)]
    ref = np.array([centred_slope(t[i : i + window], y[i : i + window]) for i in picks])
    assert np.allclose(ours[picks], ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max())


def test_long_series_keeps_precision_across_re_anchoring() -> None:
    n, window = 200_000, 1000
    t = 1.7e9 + np.arange(n) * 0.1
    y = 1e5 - 1e-6 * (t - t[0])
    slopes = sliding_slopes(t, y, window)
    assert slopes.shape == (n - window + 1,)
    assert np.max(np.abs(slopes / -1e-6 - 1.0)) < 1e-6


def test_compensated_sliding_slopes() -> None:
    t = np.arange(100.0)
    temperature = 290.0 + 0.1 * np.sin(t / 5)
    p = (1e5 - 0.5 * t) * temperature / 293.15
    slopes = sliding_slopes(t, p, 10, temperature, 293.15)
    assert np.allclose(slopes, -0.5, rtol=1e-9)


def test_window_errors() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        sliding_slopes(np.arange(5.0), np.arange(5.0), 1)
    with pytest.raises(ValueError, match="longer than"):
        sliding_slopes(np.arange(5.0), np.arange(5.0), 6)


def test_windows_at_one_time_are_nan_and_out_is_filled() -> None:
    t = np.repeat(np.arange(20.0), 3)  # three samples per time stamp
    y = 5.0 * t
    out = np.full(t.size - 2, -1.0)
    result = sliding_slopes(t, y, 3, out=out)
    assert result is out
    assert np.isnan(out[::3]).all()  # windows holding one time stamp only
    assert np.allclose(np.delete(out, np.s_[::3]), 5.0)
    with pytest.raises(ValueError, match="out must be"):
        sliding_slopes(t, y, 3, out=np.empty(3))


def test_all_missing_windows_are_nan() -> None:
    t = np.arange(50.0)
    y = np.full(50, np.nan)
    assert np.isnan(sliding_slopes(t, y, 5)).all()


def test_streaming_equals_batch() -> None:
    rng = np.random.default_rng(11)
    t = 1.7e9 + np.arange(5000) * 0.1
    p = 2e5 - 0.01 * (t - t[0]) + rng.normal(0.0, 0.05, t.size)
    p[100] = np.nan
    stream = StreamingFit()
    stream.extend(t[:2500], p[:2500])
    for ti, pi in zip(t[2500:], p[2500:], strict=True):
        stream.add(float(ti), float(pi))
    batch = fit_decay(t, p)
    assert (stream.n, stream.skipped) == (batch.n, batch.n_skipped)
    assert stream.slope == pytest.approx(batch.slope_pa_s, rel=1e-10)
    assert stream.slope_stderr == pytest.approx(batch.line.ols_slope_stderr, rel=1e-6)


def test_live_leak_rate_with_temperature() -> None:
    live = LiveLeakRate(volume_m3=1e-3, t_ref_k=293.15)
    assert np.isnan(live.leak_rate_pa_m3_s)
    for i in range(100):
        temperature = 293.15 + 0.001 * i
        live.add(float(i), (1e5 - 0.1 * i) * temperature / 293.15, temperature)
    assert live.n == 100
    assert live.leak_rate_pa_m3_s == pytest.approx(1e-4, rel=1e-9)
    assert live.stderr_pa_m3_s < 1e-12
