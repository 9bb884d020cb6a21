"""When has the fill transient died out? (leak-physics §4.3, method a)

After a fill the gas cools towards the wall and the pressure falls along an
exponential that looks like a leak. Slopes over consecutive, non-overlapping windows
change while the transient lasts and agree once only the leak is left: the test is
settled when |b_k − b_(k−1)| < tolerance·|b_reject| for ``consecutive`` window pairs
in a row, b_reject being the slope a leak at the reject limit would produce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rig import _sliding
from rig.analysis.linefit import FloatArray, as_samples
from rig.errors import InputError


def sliding_slopes(
    t: npt.ArrayLike,
    p: npt.ArrayLike,
    window: int,
    temperature: npt.ArrayLike | None = None,
    t_ref_k: float = 293.15,
    out: FloatArray | None = None,
) -> FloatArray:
    """Least-squares slope over samples [i, i + window) for every i, in O(n).

    With ``temperature`` the slopes are of p·t_ref_k/T. Windows with fewer than two
    usable samples (or all at one time) give NaN. ``out`` (length n − window + 1)
    receives the result when given, so that a caller refitting live data can reuse it.
    """
    tt = as_samples(t, "time")
    pp = as_samples(p, "pressure")
    if temperature is None:
        return _sliding.sliding_slopes(tt, pp, int(window), out)
    temp = as_samples(temperature, "temperature")
    return _sliding.sliding_slopes_compensated(tt, pp, temp, float(t_ref_k), int(window), out)


@dataclass(frozen=True)
class Settling:
    """Outcome of :func:`detect_settling`."""

    settled: bool
    settled_at_s: float | None  # start of the first window of the agreeing run
    detected_at_s: float | None  # end of the window that completed the run
    window_s: float
    window_slopes_pa_s: tuple[float, ...]


def detect_settling(
    t: npt.ArrayLike,
    p: npt.ArrayLike,
    reject_slope_pa_s: float,
    window_s: float,
    *,
    temperature: npt.ArrayLike | None = None,
    t_ref_k: float = 293.15,
    tolerance: float = 0.1,
    consecutive: int = 3,
) -> Settling:
    """Find when window slopes stop changing by more than ``tolerance``·|reject slope|."""
    if not window_s > 0.0:
        raise InputError(f"settling window must be positive, got {window_s} s")
    if reject_slope_pa_s == 0.0 or not np.isfinite(reject_slope_pa_s):
        raise InputError("the reject slope must be finite and non-zero")
    if consecutive < 1:
        raise InputError(f"consecutive must be at least 1, got {consecutive}")
    tt = as_samples(t, "time")
    finite = np.isfinite(tt)
    if finite.sum() < 4:
        raise InputError("need at least 4 time stamps to look for settling")
    step = float(np.median(np.diff(tt[finite])))
    if not step > 0.0:
        raise InputError("time stamps must increase")
    window = max(round(window_s / step), 2)
    if 2 * window > tt.size:
        return Settling(False, None, None, window_s, ())
    slopes = sliding_slopes(tt, p, window, temperature, t_ref_k)[::window]
    limit = tolerance * abs(reject_slope_pa_s)
    run = 0
    for k in range(1, slopes.size):
        change = abs(slopes[k] - slopes[k - 1])
        run = run + 1 if change < limit else 0
        if run >= consecutive:
            first = (k - consecutive) * window
            last = min(k * window + window - 1, tt.size - 1)
            return Settling(True, float(tt[first]), float(tt[last]), window_s, tuple(map(float, slopes)))
    return Settling(False, None, None, window_s, tuple(map(float, slopes)))
