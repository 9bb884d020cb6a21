"""Pressure-decay leak rate: the fitted slope of p (or p·T_ref/T) times the volume.

Leak rate Q = −V·dp/dt is a pV throughput in Pa·m³/s, positive for gas leaving the
volume. With a gas temperature the fit runs on the compensated pressure p·T_ref/T, so
Q = −V·T_ref·d(p/T)/dt is the throughput evaluated at T_ref and equals ṅ·R·T_ref.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy.typing as npt

from rig.analysis.linefit import LineFit, as_samples, fit_line, fit_line_compensated
from rig.errors import InputError
from rig.units import R_GAS, T_TWENTY_C_K

METHOD_PLAIN = "ols-pressure"
METHOD_COMPENSATED = "ols-pressure-temperature-compensated"


@dataclass(frozen=True)
class DecayFit:
    """Result of :func:`fit_decay`: slope, leak rate and their uncertainty.

    ``type_b_pa_m3_s`` is a standard uncertainty the samples cannot show (a gauge's
    resolution: a trace that never leaves one printed digit is flat whatever the leak
    below that step), added in quadrature to the fit's own.
    """

    line: LineFit
    volume_m3: float
    t_ref_k: float
    method: str
    type_b_pa_m3_s: float = 0.0

    @property
    def n(self) -> int:
        """Usable samples in the fit."""
        return self.line.n

    @property
    def n_skipped(self) -> int:
        """Samples skipped as non-finite (gauge dropouts)."""
        return self.line.n_skipped

    @property
    def dof(self) -> float:
        """Degrees of freedom of the interval (effective samples − 2)."""
        return self.line.dof

    @property
    def slope_pa_s(self) -> float:
        """Fitted dp/dt in Pa/s (of p·T_ref/T when temperature-compensated)."""
        return self.line.slope

    @property
    def slope_stderr_pa_s(self) -> float:
        """Autocorrelation-aware standard error of the slope in Pa/s."""
        return self.line.slope_stderr

    @property
    def leak_rate_pa_m3_s(self) -> float:
        """Leak rate in Pa·m³/s at ``t_ref_k``, positive for gas leaving the volume."""
        return -self.volume_m3 * self.line.slope

    @property
    def stderr_pa_m3_s(self) -> float:
        """Standard uncertainty of the leak rate in Pa·m³/s (the fit's, with the Type-B term)."""
        return math.hypot(self.volume_m3 * self.line.slope_stderr, self.type_b_pa_m3_s)

    @property
    def molar_rate_mol_s(self) -> float:
        """Amount of gas leaving per second, mol/s."""
        return self.leak_rate_pa_m3_s / (R_GAS * self.t_ref_k)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Two-sided confidence interval on the leak rate, Pa·m³/s."""
        half = self.line.t_quantile(0.5 + confidence / 2.0) * self.stderr_pa_m3_s
        return self.leak_rate_pa_m3_s - half, self.leak_rate_pa_m3_s + half

    def upper_bound(self, confidence: float = 0.95) -> float:
        """One-sided upper confidence bound on the leak rate, Pa·m³/s."""
        return self.leak_rate_pa_m3_s + self.line.t_quantile(confidence) * self.stderr_pa_m3_s

    def lower_bound(self, confidence: float = 0.95) -> float:
        """One-sided lower confidence bound on the leak rate, Pa·m³/s."""
        return self.leak_rate_pa_m3_s - self.line.t_quantile(confidence) * self.stderr_pa_m3_s


def fit_decay(
    t: npt.ArrayLike,
    p: npt.ArrayLike,
    temperature: npt.ArrayLike | None = None,
    volume_m3: float = 1.0,
    t_ref_k: float = T_TWENTY_C_K,
) -> DecayFit:
    """Fit a pressure decay and return the leak rate with its uncertainty.

    ``t`` in s (epoch or relative), ``p`` in Pa (absolute), ``temperature`` the gas
    temperature in K or None. Non-finite samples are skipped and counted.
    """
    if not volume_m3 > 0.0:
        raise InputError(f"volume must be positive, got {volume_m3} m³")
    if not t_ref_k > 0.0:
        raise InputError(f"reference temperature must be positive, got {t_ref_k} K")
    tt = as_samples(t, "time")
    pp = as_samples(p, "pressure")
    if tt.shape != pp.shape:
        raise InputError(f"time has {tt.size} samples but pressure has {pp.size}")
    if temperature is None:
        return DecayFit(fit_line(tt, pp), volume_m3, t_ref_k, METHOD_PLAIN)
    temp = as_samples(temperature, "temperature")
    if temp.shape != tt.shape:
        raise InputError(f"time has {tt.size} samples but temperature has {temp.size}")
    return DecayFit(fit_line_compensated(tt, pp, temp, t_ref_k), volume_m3, t_ref_k, METHOD_COMPENSATED)
