"""Sensor models: seeded, noisy at the stated level, quantised, and honest about range."""

from __future__ import annotations

import numpy as np
import pytest

from rig.sim.backend import GaugeStatus
from rig.sim.gauges import GaugeModel, ThermocoupleModel


def test_same_seed_same_readings_other_seed_other_readings() -> None:
    def run(seed: int) -> list[float]:
        g = GaugeModel(noise_pa=0.5, drift_pa_per_sqrt_s=0.01, seed=seed)
        return [g.read(float(t), 1e5).pressure_pa for t in range(100)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_noise_and_accuracy_are_as_stated() -> None:
    g = GaugeModel(accuracy_rel=0.0, noise_pa=0.5, seed=1)
    values = np.array([g.read(float(t), 5e4).pressure_pa for t in range(4000)])
    assert values.std() == pytest.approx(0.5, rel=0.05)
    assert values.mean() == pytest.approx(5e4, abs=0.05)
    errors = [GaugeModel(accuracy_rel=0.01, seed=s).read(0.0, 1e4).pressure_pa / 1e4 - 1 for s in range(400)]
    assert np.std(errors) == pytest.approx(0.005, rel=0.15)


def test_resolution_quantises_readings() -> None:
    g = GaugeModel(accuracy_rel=0.0, resolution_pa=0.1, seed=2)
    value = g.read(0.0, 12345.6789).pressure_pa
    assert value == pytest.approx(12345.7)
    rel = GaugeModel(accuracy_rel=0.0, resolution_rel=1e-4, seed=2).read(0.0, 12345.6789).pressure_pa
    assert abs(rel - 12345.6789) <= 0.5 * 1e-4 * 12345.6789 + 1e-9


def test_range_limits_give_status_digits() -> None:
    g = GaugeModel(min_pa=0.1, max_pa=1e5, accuracy_rel=0.0, seed=3)
    assert g.read(0.0, 0.01).status is GaugeStatus.UNDERRANGE
    assert g.read(0.0, 2e5).status is GaugeStatus.OVERRANGE
    assert g.read(0.0, 5e4).status is GaugeStatus.OK


def test_zero_shift_moves_every_reading() -> None:
    g = GaugeModel(accuracy_rel=0.0, seed=4)
    before = g.read(0.0, 1000.0).pressure_pa
    g.zero_shift_pa = 25.0
    assert g.read(1.0, 1000.0).pressure_pa == pytest.approx(before + 25.0)


def test_drift_is_a_random_walk_in_time() -> None:
    steps = []
    for seed in range(200):
        g = GaugeModel(accuracy_rel=0.0, drift_pa_per_sqrt_s=0.1, seed=seed)
        g.read(0.0, 1000.0)
        steps.append(g.read(100.0, 1000.0).pressure_pa - 1000.0)
    assert np.std(steps) == pytest.approx(0.1 * 10.0, rel=0.15)  # σ grows as √t


def test_thermocouple_reading() -> None:
    tc = ThermocoupleModel(accuracy_k=0.0, noise_k=0.0, resolution_k=0.01, seed=5)
    assert tc.read_k(293.1549) == pytest.approx(293.15)
    noisy = ThermocoupleModel(accuracy_k=0.0, noise_k=0.02, resolution_k=0.0, seed=6)
    assert np.std([noisy.read_k(300.0) for _ in range(2000)]) == pytest.approx(0.02, rel=0.1)


def test_vectorised_readings_match_the_single_reading_model() -> None:
    g = GaugeModel(accuracy_rel=0.0, noise_pa=0.5, resolution_pa=0.01, min_pa=1.0, max_pa=2e5, seed=9)
    t = np.arange(5000.0)
    true = np.full(t.size, 5e4)
    true[:3] = [0.1, 3e5, 5e4]
    status, values = g.read_many(t, true)
    assert list(status[:3]) == [GaugeStatus.UNDERRANGE, GaugeStatus.OVERRANGE, GaugeStatus.OK]
    assert values[0] == 1.0 and values[1] == 2e5
    assert values[3:].std() == pytest.approx(0.5, rel=0.05)
    assert np.allclose(np.round(values[3:] / 0.01) * 0.01, values[3:])
    same = GaugeModel(accuracy_rel=0.0, noise_pa=0.5, resolution_pa=0.01, min_pa=1.0, max_pa=2e5, seed=9)
    assert np.array_equal(same.read_many(t, true)[1], values)  # seeded


def test_vectorised_drift_carries_on_between_calls() -> None:
    ends = []
    for seed in range(200):
        g = GaugeModel(accuracy_rel=0.0, drift_pa_per_sqrt_s=0.1, seed=seed)
        g.read_many(np.arange(0.0, 50.0), np.full(50, 1000.0))
        ends.append(g.read_many(np.arange(50.0, 101.0), np.full(51, 1000.0))[1][-1] - 1000.0)
    assert np.std(ends) == pytest.approx(0.1 * 10.0, rel=0.15)
