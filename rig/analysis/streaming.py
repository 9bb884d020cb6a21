"""A live leak-rate estimate during a test, updated in O(1) per sample."""

from __future__ import annotations

from rig._stream import StreamingFit


class LiveLeakRate:
    """Running leak rate from samples as they arrive (plain OLS; no autocorrelation).

    Used for the live view only: the verdict comes from :func:`rig.analysis.fit_decay`
    on the recorded samples, which also accounts for correlated noise.
    """

    def __init__(self, volume_m3: float, t_ref_k: float = 293.15) -> None:
        self.volume_m3 = volume_m3
        self.t_ref_k = t_ref_k
        self._fit = StreamingFit()

    def add(self, t_s: float, pressure_pa: float, temperature_k: float | None = None) -> None:
        """Add one sample; with a gas temperature the pressure is compensated to ``t_ref_k``."""
        y = pressure_pa if temperature_k is None else pressure_pa * self.t_ref_k / temperature_k
        self._fit.add(t_s, y)

    @property
    def n(self) -> int:
        """Samples used so far."""
        return int(self._fit.n)

    @property
    def leak_rate_pa_m3_s(self) -> float:
        """Current estimate, Pa·m³/s, positive for gas leaving (NaN before two samples)."""
        return -self.volume_m3 * float(self._fit.slope)

    @property
    def stderr_pa_m3_s(self) -> float:
        """Plain OLS standard error of the estimate, Pa·m³/s (NaN before three samples)."""
        return self.volume_m3 * float(self._fit.slope_stderr)
