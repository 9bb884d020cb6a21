"""Thermal effects of filling a rigid volume (leak-physics §3.5), and a thermometer's thermal mass."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rig.sim.conductance import GAMMA_AIR


def adiabatic_fill_temperature(
    initial_pa: float, final_pa: float, initial_k: float, supply_k: float, gamma: float = GAMMA_AIR
) -> float:
    """Upper bound of the gas temperature after filling from ``initial_pa`` to ``final_pa``.

    T_f = p_f / [(p_f − p_i)/(γ·T₀) + p_i/T_i], with no heat exchanged with the walls.
    """
    return final_pa / ((final_pa - initial_pa) / (gamma * supply_k) + initial_pa / initial_k)


# A thermocouple's thermal mass: it trails what it touches by this time constant, unless the
# bench file says otherwise (physics.sensors.<name>.time_constant).
DEFAULT_SENSOR_TIME_CONSTANT_S = 30.0
# How strongly the sheath exchanges heat with the gas, relative to its mount on the wall, at one
# atmosphere (in proportion to the gas density, i.e. pressure). Gas has little heat capacity: a
# thermocouple in a fill or a vent sees a fraction of the adiabatic swing, never all of it.
DEFAULT_SENSOR_GAS_COUPLING = 0.2
ONE_ATMOSPHERE_PA = 101325.0


@dataclass
class SensorThermalMass:
    """A temperature sensor with a thermal mass, held by the wall and swept by the gas.

    Its temperature T_s obeys C·dT_s/dt = h_wall·(T_wall − T_s) + h_gas·(T_gas − T_s), with
    h_gas/h_wall = ``gas_coupling``·p/p_atm and C/h_wall = ``time_constant_s``. It starts at
    equilibrium and is advanced at each reading, the gas and wall temperatures taken as they
    are then (the exact solution for inputs held over the interval, stable however long).
    """

    time_constant_s: float = DEFAULT_SENSOR_TIME_CONSTANT_S
    gas_coupling: float = DEFAULT_SENSOR_GAS_COUPLING
    _t_s: float | None = field(default=None, init=False, repr=False)
    _k: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not (self.time_constant_s >= 0.0 and math.isfinite(self.time_constant_s)):
            raise ValueError(f"time constant must be finite and not negative, got {self.time_constant_s}")
        if not (self.gas_coupling >= 0.0 and math.isfinite(self.gas_coupling)):
            raise ValueError(f"gas coupling must be finite and not negative, got {self.gas_coupling}")

    def temperature_k(self, t_s: float, gas_k: float, wall_k: float, pressure_pa: float) -> float:
        """The sensor's own temperature at ``t_s`` (K), having followed the gas and the wall."""
        ratio = self.gas_coupling * max(pressure_pa, 0.0) / ONE_ATMOSPHERE_PA
        target_k = (wall_k + ratio * gas_k) / (1.0 + ratio)
        if self._t_s is None or self.time_constant_s == 0.0:
            self._k = target_k
        elif t_s > self._t_s:
            decay = math.exp(-(t_s - self._t_s) * (1.0 + ratio) / self.time_constant_s)
            self._k = target_k + (self._k - target_k) * decay
        self._t_s = t_s if self._t_s is None else max(t_s, self._t_s)
        return self._k
