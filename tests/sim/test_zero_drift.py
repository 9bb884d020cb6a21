"""A simulated gauge's zero drift: linear, a random walk, a temperature coefficient; seeded, and the
same through ``read`` and ``read_many``; set per channel in the bench's ``physics.sensors``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.located_yaml import LocatedError
from rig.sim.bench_physics import build_simulation
from rig.sim.gauges import GaugeModel, ZeroDrift
from tests.engine import sim_runs

SENSOR = "resolution: 0.01 Pa, drift: 0.002 Pa}"


def swing(t_s: np.ndarray) -> np.ndarray:
    """An ambient 0.5 K above nominal per 1000 s, for the tests."""
    return 0.5 * t_s / 1000.0


@settings(max_examples=30, deadline=None)
@given(
    rate=st.floats(-1.0, 1.0),
    walk=st.floats(0.0, 0.05),
    tempco=st.floats(-20.0, 20.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_read_and_read_many_agree(rate: float, walk: float, tempco: float, seed: int) -> None:
    """Same seed, same zero: the one-at-a-time and the vectorised readings see the same drift."""
    drift = ZeroDrift(rate, walk, tempco, swing)
    one = GaugeModel(accuracy_rel=0.0, seed=seed, zero_drift=drift)
    many = GaugeModel(accuracy_rel=0.0, seed=seed, zero_drift=drift)
    t = np.arange(10.0, 20.0)
    singles = np.array([one.read(float(x), 5e4).pressure_pa for x in t])
    _, vector = many.read_many(t, np.full(t.size, 5e4))
    if walk == 0.0:
        assert np.allclose(singles, vector, rtol=0.0, atol=1e-6)
    deterministic = 5e4 + rate * (t - t[0]) + tempco * swing(t)
    # The walk's part is the only random one: σ = walk·√(elapsed) at most √9 s here.
    assert np.all(np.abs(vector - deterministic) <= 6.0 * walk * 3.0 + 1e-6)


def test_a_linear_drift_starts_at_the_first_reading() -> None:
    g = GaugeModel(accuracy_rel=0.0, zero_drift=ZeroDrift(rate_pa_s=-0.5))
    assert g.read(100.0, 1000.0).pressure_pa == pytest.approx(1000.0)
    assert g.read(160.0, 1000.0).pressure_pa == pytest.approx(970.0)


def test_the_zero_random_walk_is_in_its_declared_units() -> None:
    """1 Pa/h**0.5 is 1/60 Pa/s**0.5: after an hour the zero has wandered 1 Pa (1 σ)."""
    ends = []
    for seed in range(300):
        g = GaugeModel(accuracy_rel=0.0, seed=seed, zero_drift=ZeroDrift(random_walk_pa_sqrt_s=1.0 / 60.0))
        g.read(0.0, 1000.0)
        ends.append(g.read(3600.0, 1000.0).pressure_pa - 1000.0)
    assert np.std(ends) == pytest.approx(1.0, rel=0.15)


def test_the_temperature_coefficient_acts_on_the_ambient() -> None:
    g = GaugeModel(
        accuracy_rel=0.0, zero_drift=ZeroDrift(temperature_coefficient_pa_k=10.0, ambient_departure_k=swing)
    )
    assert g.read(1000.0, 1000.0).pressure_pa == pytest.approx(1005.0)


def test_the_zero_shift_fault_adds_to_the_drift() -> None:
    g = GaugeModel(accuracy_rel=0.0, zero_drift=ZeroDrift(rate_pa_s=1.0))
    g.read(0.0, 1000.0)
    g.zero_shift_pa = 25.0
    assert g.read(10.0, 1000.0).pressure_pa == pytest.approx(1035.0)


def test_a_gauge_without_zero_drift_reads_as_before() -> None:
    """No zero drift set: no extra draws from the generator, the very same readings."""
    plain = GaugeModel(noise_pa=0.3, drift_pa_per_sqrt_s=0.01, seed=5)
    still = GaugeModel(noise_pa=0.3, drift_pa_per_sqrt_s=0.01, seed=5, zero_drift=ZeroDrift())
    assert [plain.read(float(t), 1e5).pressure_pa for t in range(50)] == [
        still.read(float(t), 1e5).pressure_pa for t in range(50)
    ]


def test_the_bench_sets_a_channels_zero_drift_in_its_physics(tmp_path: Path) -> None:
    path = sim_runs.variant(
        tmp_path,
        sim_runs.MOCKUP,
        lambda t: t.replace(
            SENSOR,
            "resolution: 0.01 Pa, drift: 0.002 Pa, "
            "zero_drift: {rate: -1800 Pa/h, random_walk: 1 Pa/h**0.5, temperature_coefficient: 13 Pa/K}}",
        ),
    )
    simulation = build_simulation(load_bench(path), VirtualClock())
    (article,) = [g for g in simulation.gauges if g.volume == "article"]
    drift = article.model.zero_drift
    assert drift.rate_pa_s == pytest.approx(-0.5)
    assert drift.random_walk_pa_sqrt_s == pytest.approx(1.0 / 60.0)
    assert drift.temperature_coefficient_pa_k == pytest.approx(13.0)
    # The mockup's room swings 0.3 K over a day: the gauge sees it.
    assert drift.ambient_departure_k is not None
    assert drift.ambient_departure_k(np.array([86400.0 / 4.0]))[0] == pytest.approx(0.3)


def test_a_negative_random_walk_is_refused_where_it_stands(tmp_path: Path) -> None:
    path = sim_runs.variant(
        tmp_path,
        sim_runs.MOCKUP,
        lambda t: t.replace(SENSOR, f"{SENSOR[:-1]}, zero_drift: {{random_walk: -1 Pa/h**0.5}}}}"),
    )
    with pytest.raises(LocatedError, match=r"bench\.yaml:\d+:\d+: random_walk cannot be negative"):
        build_simulation(load_bench(path), VirtualClock())
