"""Thermal effects of filling a rigid volume (leak-physics §3.5)."""

from __future__ import annotations

from rig.sim.conductance import GAMMA_AIR


def adiabatic_fill_temperature(
    initial_pa: float, final_pa: float, initial_k: float, supply_k: float, gamma: float = GAMMA_AIR
) -> float:
    """Upper bound of the gas temperature after filling from ``initial_pa`` to ``final_pa``.

    T_f = p_f / [(p_f − p_i)/(γ·T₀) + p_i/T_i], with no heat exchanged with the walls.
    """
    return final_pa / ((final_pa - initial_pa) / (gamma * supply_k) + initial_pa / initial_k)
