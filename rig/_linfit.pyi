"""Type stubs of the compiled straight-line fits (ext/_linfit.pyx)."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_Array = npt.NDArray[np.float64]
# (n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, s_yy)
_Moments = tuple[int, int, float, float, float, float, float, float, float]

MIN_SAMPLES: int
RHO_CAP: float
RHO_FLOOR: float

@dataclass(frozen=True)
class LineFit:
    """Least-squares line y = y0 + a + b (t - t0) with its uncertainty."""

    n: int
    n_skipped: int
    t0: float
    y0: float
    intercept_rel: float
    slope: float
    ols_slope_stderr: float
    slope_stderr: float
    residual_std: float
    rho1: float
    n_eff: float
    dof: float
    duration: float

    def t_quantile(self, probability: float) -> float: ...
    def predict(self, t: npt.ArrayLike) -> _Array: ...

def debiased_rho(raw: float, n: int) -> float: ...
def lag1_variance_factor(n: int) -> float: ...
def interval_dof(rho: float, n: int) -> float: ...
def fit_line(t: _Array, y: _Array) -> LineFit: ...
def fit_line_compensated(t: _Array, p: _Array, temperature: _Array, t_ref: float) -> LineFit: ...
def fit_line_log(t: _Array, p: _Array, p_ext: float) -> LineFit: ...
def fit_line_plain_error(
    t: _Array, y: _Array, temperature: _Array | None = None, t_ref: float = 293.15
) -> LineFit: ...
def line_moments(t: _Array, y: _Array) -> _Moments: ...
def line_moments_compensated(t: _Array, p: _Array, temperature: _Array, t_ref: float) -> _Moments: ...
def line_moments_log(t: _Array, p: _Array, p_ext: float) -> _Moments: ...
