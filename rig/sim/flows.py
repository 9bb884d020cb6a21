"""Ways gas moves between two places, each as a molar flow (mol/s) from end ``a`` to end ``b``.

The formulas are those of leak-physics §3: the isentropic orifice (choked below the
critical pressure ratio, sub-critical above it) for valves and hole-like leaks, the
laminar (Poiseuille) capillary, molecular conductance, permeation through a seal, gas
desorbing from walls (outgassing falling as a power of time) and a pump with an
ultimate pressure. A negative flow runs from ``b`` to ``a``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rig.sim.backend import ControlMode
from rig.sim.conductance import GAMMA_AIR, VISCOSITY_AIR_PA_S, choked_mass_flow, critical_pressure_ratio
from rig.units import R_AIR, R_GAS

M_AIR_KG_MOL = R_GAS / R_AIR  # consistent with R_AIR, so mass and moles agree exactly
# Within 0.1 % of equal pressures the orifice law (∝ √(1 − r)) is replaced by its secant, so
# the flow stays Lipschitz at equilibrium and the integrator need not chase a square root.
LINEAR_BAND = 1e-3


def _orifice_mass_flow(cd_area_m2: float, p_up: float, t_up: float, p_down: float) -> float:
    """Mass flow (kg/s) through an orifice from p_up to p_down (p_up ≥ p_down ≥ 0)."""
    if p_up <= 0.0:
        return 0.0
    g = GAMMA_AIR
    ratio = p_down / p_up
    rho_up = p_up / (R_AIR * t_up)
    if ratio <= critical_pressure_ratio(g):
        return choked_mass_flow(1.0, cd_area_m2, p_up, t_up)

    def subcritical(r: float) -> float:
        term = r ** (2.0 / g) - r ** ((g + 1.0) / g)
        return cd_area_m2 * math.sqrt(max(2.0 * g / (g - 1.0) * p_up * rho_up * term, 0.0))

    if ratio < 1.0 - LINEAR_BAND:
        return subcritical(ratio)
    return subcritical(1.0 - LINEAR_BAND) * (1.0 - ratio) / LINEAR_BAND


@dataclass
class Orifice:
    """A hole or an open valve seat: effective area C_d·A (m²), isentropic orifice law."""

    a: str
    b: str
    cd_area_m2: float

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from a to b."""
        if pa >= pb:
            return _orifice_mass_flow(self.cd_area_m2, pa, ta, pb) / M_AIR_KG_MOL
        return -_orifice_mass_flow(self.cd_area_m2, pb, tb, pa) / M_AIR_KG_MOL


@dataclass
class Valve:
    """An on/off valve: an orifice while open, nothing while closed.

    A command takes effect after ``opening_delay_s`` (a solenoid needs tens of ms).
    """

    a: str
    b: str
    cd_area_m2: float
    opening_delay_s: float = 0.03
    open_initially: bool = False
    _changes: list[tuple[float, bool]] = field(default_factory=list, repr=False)

    def command(self, t_s: float, open_: bool) -> None:
        """Ask the valve at time ``t_s`` to open (True) or close; it moves after its delay."""
        self._changes.append((t_s + self.opening_delay_s, open_))
        self._changes.sort(key=lambda change: change[0])

    def is_open(self, t_s: float) -> bool:
        """Whether the valve is open at ``t_s``."""
        state = self.open_initially
        for when, open_ in self._changes:
            if when > t_s:
                break
            state = open_
        return state

    def change_times(self, after_s: float, until_s: float) -> list[float]:
        """Times in (after_s, until_s] at which the valve moves (integration must stop there)."""
        return [when for when, _ in self._changes if after_s < when <= until_s]

    def settle(self, t_s: float) -> None:
        """Forget changes before ``t_s`` (their effect is in ``open_initially``)."""
        self.open_initially = self.is_open(t_s)
        self._changes = [change for change in self._changes if change[0] > t_s]

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from a to b (zero while closed)."""
        if not self.is_open(t_s):
            return 0.0
        return Orifice(self.a, self.b, self.cd_area_m2).molar_flow(t_s, pa, ta, pb, tb)


@dataclass
class Capillary:
    """A laminar (Poiseuille) leak path: C = π·d⁴·(p_a + p_b)/(256·η·l), Q = C·(p_a − p_b)."""

    a: str
    b: str
    diameter_m: float
    length_m: float
    viscosity_pa_s: float = VISCOSITY_AIR_PA_S

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from a to b."""
        c = math.pi * self.diameter_m**4 * (pa + pb) / (256.0 * self.viscosity_pa_s * self.length_m)
        q = c * (pa - pb)
        return q / (R_GAS * (ta if q >= 0.0 else tb))


@dataclass
class Conductance:
    """A fixed conductance (m³/s): a molecular-flow leak, a pipe, or permeation (tiny C)."""

    a: str
    b: str
    conductance_m3_s: float
    starts_at_s: float = 0.0  # permeation: nothing comes through before the breakthrough time

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from a to b."""
        if t_s < self.starts_at_s:
            return 0.0
        q = self.conductance_m3_s * (pa - pb)
        return q / (R_GAS * (ta if q >= 0.0 else tb))


@dataclass
class Outgassing:
    """Gas desorbing from the walls of volume ``b``: Q = q₀·(t/t₀)^(−α), Pa·m³/s at the wall temperature.

    ``a`` is the walls' own reservoir; the clock of the decay starts at ``since_s``.
    """

    a: str
    b: str
    q0_pa_m3_s: float
    t0_s: float = 3600.0
    alpha: float = 1.0
    since_s: float = 0.0
    wall_temperature_k: float = 293.15
    min_age_s: float = 1.0

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s into b."""
        age = max(t_s - self.since_s, self.min_age_s)
        return float(self.q0_pa_m3_s * (age / self.t0_s) ** (-self.alpha) / (R_GAS * self.wall_temperature_k))


@dataclass
class Pump:
    """A vacuum pump on volume ``a`` exhausting to ``b``: Q = S(p)·(p − p_ult) above its ultimate pressure.

    ``speed_curve`` lists (pressure Pa, speed m³/s) points from the pump's data sheet,
    interpolated in log pressure and held flat beyond the ends; without it the speed is
    ``speed_m3_s`` everywhere.
    """

    a: str
    b: str
    speed_m3_s: float
    ultimate_pa: float = 1e-3
    speed_curve: tuple[tuple[float, float], ...] = ()

    def speed_at(self, pressure_pa: float) -> float:
        """Pumping speed at ``pressure_pa``, m³/s."""
        if not self.speed_curve or pressure_pa <= 0.0:
            return self.speed_m3_s
        points = sorted(self.speed_curve)
        logs = [math.log(p) for p, _ in points]
        speeds = [s for _, s in points]
        return float(np.interp(math.log(pressure_pa), logs, speeds))

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from a to the exhaust."""
        if pa <= self.ultimate_pa:
            return 0.0
        return self.speed_at(pa) * (pa - self.ultimate_pa) / (R_GAS * ta)


@dataclass
class MassFlowController:
    """A mass-flow controller feeding volume ``b`` from its supply ``a``.

    On its mass-flow loop it passes its setpoint (mol/s); on its pressure loop it is a
    proportional controller of ``b``'s pressure, ``gain_mol_s_pa`` × (setpoint − p_b), which for
    a volume V at T makes a first-order loop of time constant τ = V/(R·T·gain) (built so, with
    τ of a few seconds: no state of its own, so it costs the integrator nothing). In steady state
    it passes what leaks out of ``b``, holding ``b`` below the setpoint by that flow over the gain
    (a few Pa for a leak of a sccm on a litre). Held (``VALVE``), it passes that fraction of its
    full scale. Never more than its full scale, never backwards, and nothing without a supply
    above ``b``: the flow fades in over the last 1 % of the supply's pressure, so that it stays
    continuous as the two meet.
    """

    a: str
    b: str
    full_scale_mol_s: float
    gain_mol_s_pa: float
    mode: ControlMode = ControlMode.MASS_FLOW
    setpoint: float = 0.0

    def molar_flow(self, t_s: float, pa: float, ta: float, pb: float, tb: float) -> float:
        """mol/s from the supply into b."""
        if self.mode is ControlMode.PRESSURE:
            wanted = self.gain_mol_s_pa * (self.setpoint - pb)
        elif self.mode is ControlMode.VALVE:
            wanted = self.setpoint * self.full_scale_mol_s
        else:
            wanted = self.setpoint
        wanted = min(max(wanted, 0.0), self.full_scale_mol_s)
        if wanted == 0.0 or pa <= pb:
            return 0.0
        return wanted * min(1.0, (pa - pb) / (0.01 * pa))


FlowElement = Orifice | Valve | Capillary | Conductance | Outgassing | Pump | MassFlowController
