"""Gas-flow formulas for leaks, pipes and pumps (leak-physics §3).

Conductances are volumetric (m³/s); a flow through a conductance C between pressures
p1 and p2 is Q = C·(p1 − p2) in Pa·m³/s. Air unless a molar mass or gas constant is
given.
"""

from __future__ import annotations

import math

from rig.units import R_AIR, R_GAS

M_AIR_KG_MOL = 0.02896
GAMMA_AIR = 1.4
VISCOSITY_AIR_PA_S = 18.2e-6


def mean_molecular_speed(temperature_k: float, molar_mass_kg_mol: float = M_AIR_KG_MOL) -> float:
    """Mean thermal speed c̄ = √(8RT/(πM)) in m/s."""
    return math.sqrt(8.0 * R_GAS * temperature_k / (math.pi * molar_mass_kg_mol))


def molecular_aperture_conductance(area_m2: float, mean_speed_m_s: float) -> float:
    """Molecular-flow conductance of a thin aperture, C = c̄·A/4."""
    return mean_speed_m_s * area_m2 / 4.0


def molecular_tube_conductance(diameter_m: float, length_m: float, mean_speed_m_s: float) -> float:
    """Molecular-flow conductance of a long round tube, C = π·c̄·d³/(12·l)."""
    return math.pi * mean_speed_m_s * diameter_m**3 / (12.0 * length_m)


def laminar_tube_conductance(
    diameter_m: float, length_m: float, p1_pa: float, p2_pa: float, viscosity_pa_s: float = VISCOSITY_AIR_PA_S
) -> float:
    """Viscous (Poiseuille) conductance of a round tube, C = π·d⁴·(p1 + p2)/(256·η·l)."""
    return math.pi * diameter_m**4 * (p1_pa + p2_pa) / (256.0 * viscosity_pa_s * length_m)


def series_conductance(*conductances_m3_s: float) -> float:
    """Conductances in series: 1/C = Σ 1/Cᵢ (a pump speed counts as one)."""
    return 1.0 / sum(1.0 / c for c in conductances_m3_s)


def critical_pressure_ratio(gamma: float = GAMMA_AIR) -> float:
    """Downstream/upstream ratio below which an orifice is choked, (2/(γ+1))^(γ/(γ−1))."""
    return float((2.0 / (gamma + 1.0)) ** (gamma / (gamma - 1.0)))


def _choke_factor(gamma: float) -> float:
    return float((2.0 / (gamma + 1.0)) ** ((gamma + 1.0) / (2.0 * (gamma - 1.0))))


def choked_speed(temperature_k: float, gamma: float = GAMMA_AIR, r_specific: float = R_AIR) -> float:
    """c* = √(γ·R·T)·(2/(γ+1))^((γ+1)/(2(γ−1))), m/s: choked volumetric flow per unit area."""
    return math.sqrt(gamma * r_specific * temperature_k) * _choke_factor(gamma)


def choked_mass_flow(
    discharge_coefficient: float,
    area_m2: float,
    upstream_pa: float,
    upstream_k: float,
    gamma: float = GAMMA_AIR,
    r_specific: float = R_AIR,
) -> float:
    """Mass flow through a choked orifice, kg/s: C_d·A·p0·√(γ/(R·T0))·(2/(γ+1))^((γ+1)/(2(γ−1)))."""
    return (
        discharge_coefficient
        * area_m2
        * upstream_pa
        * math.sqrt(gamma / (r_specific * upstream_k))
        * _choke_factor(gamma)
    )


def choked_decay_time_constant(
    volume_m3: float, discharge_coefficient: float, area_m2: float, temperature_k: float
) -> float:
    """τ = V/(C_d·A·c*) of an isolated volume emptying through a choked orifice (isothermal), s."""
    return volume_m3 / (discharge_coefficient * area_m2 * choked_speed(temperature_k))
