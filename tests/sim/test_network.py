"""Physics of the gas network against leak-physics §3 (issue 3's physics tests)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rig.analysis import fit_decay, fit_exponential
from rig.sim.conductance import choked_decay_time_constant
from rig.sim.flows import Capillary, Conductance, Orifice, Outgassing, Pump, Valve
from rig.sim.network import GasNetwork
from rig.sim.nodes import GasVolume, Reservoir, atmosphere, exhaust
from rig.sim.thermal import adiabatic_fill_temperature
from rig.units import R_GAS

ATM = 101325.0


def pressures(net: GasNetwork, states: np.ndarray, name: str) -> np.ndarray:
    i = [v.name for v in net.volumes].index(name)
    nv = len(net.volumes)
    return states[:, i] * R_GAS * states[:, nv + i] / net.volumes[i].volume_m3


def test_choked_orifice_to_vacuum_decays_exponentially_within_half_a_percent() -> None:
    volume_m3, cd, area = 0.05, 0.72, math.pi * (0.1e-3) ** 2
    net = GasNetwork(
        [GasVolume("chamber", volume_m3, thermal_tau_s=5.0, initial_pressure_pa=ATM)],
        [Reservoir("vacuum", 0.0)],
        [Orifice("chamber", "vacuum", cd * area)],
    )
    tau = choked_decay_time_constant(volume_m3, cd, area, 293.15)
    t = np.linspace(0.0, 2.0 * tau, 200)
    p = pressures(net, net.sample(t), "chamber")
    assert np.max(np.abs(p / (ATM * np.exp(-t / tau)) - 1.0)) < 0.005
    # and the analysis recovers τ from the simulated trace
    assert fit_exponential(t, p).time_constant_s == pytest.approx(tau, rel=0.005)


def bench() -> GasNetwork:
    """Chamber, reference volume and test article with supply, vent, pump and a leak."""
    return GasNetwork(
        [
            GasVolume("chamber", 0.05, initial_pressure_pa=ATM),
            GasVolume("reference", 0.002, initial_pressure_pa=ATM),
            GasVolume("article", 0.001, initial_pressure_pa=ATM),
        ],
        [atmosphere(), Reservoir("supply", 3e5), exhaust()],
        [
            Valve("supply", "chamber", 2e-6),
            Valve("chamber", "atmosphere", 5e-6),
            Valve("chamber", "reference", 1e-6),
            Pump("chamber", "exhaust", 0.01, 0.1),
            Capillary("article", "chamber", 20e-6, 5e-3),
            Conductance("chamber", "atmosphere", 1e-10),
        ],
    )


def test_moles_are_conserved_across_valve_operations() -> None:
    net = bench()
    start = net.initial_total_moles
    plan = [
        (1.0, ("supply", "chamber"), True),
        (20.0, ("supply", "chamber"), False),
        (30.0, ("chamber", "reference"), True),
        (60.0, ("chamber", "atmosphere"), True),
        (90.0, ("chamber", "atmosphere"), False),
        (95.0, ("chamber", "reference"), False),
    ]
    for when, (a, b), open_ in plan:
        net.advance_to(when)
        net.valve(a, b).command(when, open_)
    net.advance_to(600.0)
    assert net.moles("supply") < 0.0  # the supply gave gas
    assert net.moles("exhaust") > 0.0  # the pump took some
    assert abs(net.total_moles() - start) <= 1e-9 * start


def test_fill_heats_no_more_than_the_adiabatic_bound_then_relaxes() -> None:
    tau_s = 60.0
    net = GasNetwork(
        [GasVolume("part", 0.001, thermal_tau_s=tau_s, initial_pressure_pa=ATM)],
        [Reservoir("supply", 2 * ATM)],
        [Valve("supply", "part", 5e-6, opening_delay_s=0.0)],
    )
    net.valve("supply", "part").command(0.0, True)
    t_fill = np.linspace(0.0, 2.0, 401)
    states = net.sample(t_fill)
    p_end = pressures(net, states, "part")[-1]
    bound = adiabatic_fill_temperature(ATM, p_end, 293.15, 293.15)
    assert states[:, 1].max() <= bound + 1e-9
    assert states[:, 1].max() > 293.15 + 0.5 * (bound - 293.15)  # a 2 s fill is nearly adiabatic
    net.valve("supply", "part").command(2.0, False)
    t_rest = np.linspace(2.0, 300.0, 600)
    rest = net.sample(t_rest)
    excess = rest[:, 1] - 293.15
    fit = fit_exponential(t_rest, excess + 293.15, p_ext_pa=293.15)  # ln(T − T_wall) is a line
    expected = net.volumes[0].thermal_tau_at(float(pressures(net, rest, "part")[-1]))
    assert fit.time_constant_s == pytest.approx(expected, rel=0.02)


def rate_of_rise(extra: list) -> tuple[np.ndarray, np.ndarray]:
    net = GasNetwork(
        [GasVolume("chamber", 0.05, initial_pressure_pa=1.0)],
        [atmosphere(), Reservoir("walls", 0.0)],
        extra,
    )
    t = np.linspace(0.0, 7200.0, 721)
    return t, pressures(net, net.sample(t), "chamber")


def test_rate_of_rise_bends_with_outgassing_and_stays_straight_with_a_leak() -> None:
    t, leak = rate_of_rise([Orifice("atmosphere", "chamber", 1e-12)])
    t, gassy = rate_of_rise([Outgassing("walls", "chamber", 2e-6, t0_s=60.0, alpha=1.0, min_age_s=60.0)])
    third = t.size // 3

    def slope(p: np.ndarray, part: slice) -> float:
        return fit_decay(t[part], p[part]).slope_pa_s

    early, late = slice(0, third), slice(2 * third, None)
    assert slope(leak, late) == pytest.approx(slope(leak, early), rel=1e-3)  # a real leak: straight
    assert slope(gassy, late) < 0.5 * slope(gassy, early)  # outgassing: the rise flattens


def test_unknown_endpoint_is_an_error() -> None:
    with pytest.raises(ValueError, match="neither a volume nor a reservoir"):
        GasNetwork([GasVolume("a", 1.0)], [], [Orifice("a", "nowhere", 1e-6)])


def test_pump_speed_follows_its_curve() -> None:
    pump = Pump("chamber", "exhaust", 0.01, 0.0, ((1.0, 0.004), (100.0, 0.01), (1e5, 0.009)))
    assert pump.speed_at(0.01) == pytest.approx(0.004)  # flat beyond the ends
    assert pump.speed_at(10.0) == pytest.approx(0.007)  # halfway in log pressure
    assert pump.speed_at(1e6) == pytest.approx(0.009)
    assert Pump("chamber", "exhaust", 0.01).speed_at(5.0) == 0.01


def commanded_bench() -> GasNetwork:
    """The bench with its valves' moves commanded ahead of time."""
    net = bench()
    for when, (a, b), open_ in [
        (1.0, ("supply", "chamber"), True),
        (20.0, ("supply", "chamber"), False),
        (30.0, ("chamber", "reference"), True),
        (60.0, ("chamber", "atmosphere"), True),
        (90.0, ("chamber", "atmosphere"), False),
    ]:
        net.valve(a, b).command(when, open_)
    return net


def test_sampling_one_instant_at_a_time_agrees_with_sampling_all_at_once() -> None:
    times = np.linspace(0.5, 400.0, 800)
    together = commanded_bench().sample(times)
    one_by_one_net = commanded_bench()
    one_by_one = np.vstack([one_by_one_net.sample(times[k : k + 1]) for k in range(times.size)])
    nv = len(one_by_one_net.volumes)
    np.testing.assert_allclose(one_by_one[:, : 2 * nv], together[:, : 2 * nv], rtol=1e-7, atol=1e-12)


def test_the_solver_carries_on_from_sample_to_sample_and_restarts_only_where_a_valve_moves() -> None:
    quiet = bench()
    for t in range(1, 2001):
        quiet.advance_to(float(t))
    assert quiet.starts == 1
    busy = commanded_bench()
    for t in range(1, 2001):
        busy.advance_to(float(t))
    assert busy.starts == 6  # the first start, then one at each of the five moves


def test_a_valve_with_no_delay_moves_the_moment_it_is_commanded() -> None:
    def chamber_with_valve_at_once() -> GasNetwork:
        return GasNetwork(
            [GasVolume("chamber", 0.05, initial_pressure_pa=ATM)],
            [exhaust()],
            [Valve("chamber", "exhaust", 1e-6, opening_delay_s=0.0)],
        )

    ahead = chamber_with_valve_at_once()
    ahead.valve("chamber", "exhaust").command(10.0, True)
    late = chamber_with_valve_at_once()
    late.advance_to(10.0)  # the solver has already stepped past 10 s with the valve shut
    late.valve("chamber", "exhaust").command(10.0, True)
    times = np.linspace(10.5, 60.0, 50)
    np.testing.assert_allclose(late.sample(times)[:, 0], ahead.sample(times)[:, 0], rtol=1e-7)
    assert late.moles("chamber") < 0.9 * late.initial_total_moles


def test_an_element_altered_from_outside_takes_effect_from_the_moment_it_is_announced() -> None:
    leak = Conductance("chamber", "atmosphere", 1e-9)
    net = GasNetwork([GasVolume("chamber", 0.05, initial_pressure_pa=100.0)], [atmosphere()], [leak])
    net.advance_to(100.0)
    assert net.moles("chamber") > GasVolume("chamber", 0.05, initial_pressure_pa=100.0).initial_moles()
    sealed_at = net.moles("chamber")
    leak.conductance_m3_s = 0.0
    net.changed()
    states = net.sample(np.linspace(100.5, 300.0, 40))
    np.testing.assert_allclose(states[:, 0], sealed_at, rtol=1e-9)


def test_a_crawling_solver_is_replaced_and_the_states_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # LSODA left to choose its first step toward a far critical time can stay in its non-stiff
    # method at a ~0.1 ms step (the ISS mockup with a hatch shut did): BDF takes over.
    from rig.bench import load_bench
    from rig.clock import VirtualClock
    from rig.sim import network
    from rig.sim.bench_physics import build_simulation

    iss = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "iss_segment_mockup.yaml"

    def hatch_shut_for_an_hour() -> GasNetwork:
        sim = build_simulation(load_bench(iss), VirtualClock())
        sim.daq_backend("daq").set_relay(204, True)
        sim.network.advance_to(3600.0)
        return sim.network

    steady = hatch_shut_for_an_hour()
    assert steady.crawls == 0
    monkeypatch.setattr(network, "FIRST_STEP_S", None)
    monkeypatch.setattr(network, "HORIZON_S", 86400.0)
    crawled = hatch_shut_for_an_hour()
    assert crawled.crawls == 1
    gas = 2 * len(steady.volumes)  # moles and temperatures (not the reservoirs' tallies)
    np.testing.assert_allclose(crawled.y[:gas], steady.y[:gas], rtol=1e-6)


def test_a_pump_down_sampled_at_a_scaled_clocks_irregular_times_integrates() -> None:
    # `rig run rate_of_rise.yaml --sim --speed 5` aborted: the servers' queries, milliseconds
    # apart, sent LSODA into a trial state with no gas (a math domain error), then into
    # convergence failures. The flows of an unphysical trial state are now those of the nearest
    # physical one, and BDF takes over a failed LSODA step.
    from rig.bench import load_bench
    from rig.clock import VirtualClock
    from rig.sim.bench_physics import build_simulation

    bench = load_bench(Path(__file__).resolve().parents[2] / "procedures/benches/vacuum_chamber_mockup.yaml")
    rng = np.random.default_rng(1)
    clock = VirtualClock()
    sim = build_simulation(bench, clock)
    clock.advance(0.7)
    start = sim.true_pressure_pa("chamber")
    sim.set_relay("daq", 203, True)  # the pump valve
    for _ in range(600):
        clock.advance(float(rng.uniform(0.0005, 0.01)))
        pressure = sim.true_pressure_pa("chamber")
        assert math.isfinite(pressure) and pressure > 0.0
    assert pressure < 0.9 * start


def test_a_pump_valve_opened_onto_a_pumpline_at_its_ultimate_integrates() -> None:
    # The mockup's pumpline left at its pump's ultimate for 5 min, then its valve opened onto the
    # vented chamber: LSODA and BDF both failed from a 1 ms first step (`zero_checked_decay`'s
    # second pump-down); LSODA choosing its own first step gets through.
    from rig.bench import load_bench
    from rig.clock import VirtualClock
    from rig.sim.bench_physics import build_simulation

    mockup = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
    clock = VirtualClock()
    sim = build_simulation(load_bench(mockup), clock)
    clock.advance(300.0)
    sim.daq_backend("daq").set_relay(203, True)  # the pump valve
    for _ in range(300):
        clock.advance(1.0)
        sim.true_pressure_pa("chamber")
    assert sim.true_pressure_pa("chamber") < 1.0
