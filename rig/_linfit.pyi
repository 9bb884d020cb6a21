"""Type stubs of the compiled straight-line fits (ext/_linfit.pyx)."""

import numpy as np
import numpy.typing as npt

_Array = npt.NDArray[np.float64]
# (n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, s_yy)
_Moments = tuple[int, int, float, float, float, float, float, float, float]
# (n, sse, sum r_i r_(i-1), sum (r_i - r_(i-1))^2, pairs)
_Residuals = tuple[int, float, float, float, int]

def line_moments(t: _Array, y: _Array) -> _Moments: ...
def line_moments_compensated(t: _Array, p: _Array, temperature: _Array, t_ref: float) -> _Moments: ...
def line_moments_log(t: _Array, p: _Array, p_ext: float) -> _Moments: ...
def residual_stats(t: _Array, y: _Array, t0: float, y0: float, a: float, b: float) -> _Residuals: ...
def residual_stats_compensated(
    t: _Array, p: _Array, temperature: _Array, t_ref: float, t0: float, y0: float, a: float, b: float
) -> _Residuals: ...
def residual_stats_log(
    t: _Array, p: _Array, p_ext: float, t0: float, y0: float, a: float, b: float
) -> _Residuals: ...
