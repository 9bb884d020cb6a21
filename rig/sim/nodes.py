"""Places gas can be: closed volumes whose moles and temperature evolve, and reservoirs.

A :class:`GasVolume` holds n moles at a gas temperature T in a rigid volume V, so
p = nRT/V. Its gas exchanges heat with the walls (first order, time constant τ); at low
pressure the gas follows the walls faster, because in the molecular regime every
molecule meets a wall before it meets another molecule. A :class:`Reservoir` has a
pressure and temperature that the network does not change: the atmosphere (with slow
barometric and temperature drift), a regulated supply, or the exhaust of a pump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rig.units import R_GAS

# Below about this pressure the gas-wall exchange speeds up (transition towards molecular flow).
THERMAL_KNEE_PA = 1000.0
# The fastest gas-wall exchange the model allows, s (keeps the equations merely stiff).
THERMAL_TAU_FLOOR_S = 0.05


@dataclass
class GasVolume:
    """A rigid volume of gas: the state the network integrates."""

    name: str
    volume_m3: float
    wall_temperature_k: float = 293.15
    thermal_tau_s: float = 60.0
    initial_pressure_pa: float = 101325.0
    initial_temperature_k: float | None = None  # gas temperature at start; the wall's if None

    def __post_init__(self) -> None:
        if not self.volume_m3 > 0.0:
            raise ValueError(f"volume {self.name!r}: size must be positive")
        if not self.thermal_tau_s > 0.0:
            raise ValueError(f"volume {self.name!r}: thermal time constant must be positive")
        if self.initial_pressure_pa < 0.0:
            raise ValueError(f"volume {self.name!r}: pressure cannot be negative")

    def initial_moles(self) -> float:
        """Moles at the start: n = pV/(RT)."""
        return self.initial_pressure_pa * self.volume_m3 / (R_GAS * self.start_temperature_k())

    def start_temperature_k(self) -> float:
        """Gas temperature at the start."""
        if self.initial_temperature_k is None:
            return self.wall_temperature_k
        return self.initial_temperature_k

    def pressure_pa(self, moles: float, temperature_k: float) -> float:
        """p = nRT/V."""
        return moles * R_GAS * temperature_k / self.volume_m3

    def thermal_tau_at(self, pressure_pa: float) -> float:
        """Gas-wall time constant at ``pressure_pa``: τ at high pressure, faster below the knee."""
        return self.thermal_tau_s * pressure_pa / (pressure_pa + THERMAL_KNEE_PA) + THERMAL_TAU_FLOOR_S


@dataclass
class Reservoir:
    """Gas at a pressure and temperature the network does not change.

    ``drift_pa`` and ``drift_k`` are amplitudes of slow sinusoidal drifts with period
    ``drift_period_s`` (weather for the atmosphere; zero for a regulated supply).
    """

    name: str
    pressure_pa: float
    temperature_k: float = 293.15
    drift_pa: float = 0.0
    drift_k: float = 0.0
    drift_period_s: float = 86400.0

    def state(self, t_s: float) -> tuple[float, float]:
        """(pressure in Pa, temperature in K) at time ``t_s``."""
        if self.drift_pa == 0.0 and self.drift_k == 0.0:
            return self.pressure_pa, self.temperature_k
        phase = math.sin(2.0 * math.pi * t_s / self.drift_period_s)
        return self.pressure_pa + self.drift_pa * phase, self.temperature_k + self.drift_k * phase


def atmosphere(pressure_pa: float = 101325.0, temperature_k: float = 293.15) -> Reservoir:
    """The room: 1 atm and 20 °C unless told, with no drift unless set."""
    return Reservoir("atmosphere", pressure_pa, temperature_k)


def exhaust() -> Reservoir:
    """Where a pump sends gas: nothing comes back."""
    return Reservoir("exhaust", 0.0, 293.15)
