"""A plan checked by Monte Carlo: synthetic tests of its length through the engine's fit and verdict."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rig.analysis.decay import fit_decay
from rig.analysis.planner import MeasurementSetup
from rig.bench import BenchSpec
from rig.engine.measurements import decay_entry, with_type_b
from rig.errors import InputError
from rig.outcome import Outcome


@dataclass(frozen=True)
class MonteCarlo:
    """Synthetic tests of the planned duration put through the engine's fit and verdict."""

    draws: int
    seed: int
    duration_s: float
    outcomes: dict[str, int]
    expected_outcome: Outcome
    rates_pa_m3_s: np.ndarray
    fit_stderrs_pa_m3_s: np.ndarray  # each draw's own fit term (k = 1), to set beside the planned one

    @property
    def decisive(self) -> int:
        """Draws that gave the verdict the expected leak deserves."""
        return self.outcomes.get(self.expected_outcome, 0)

    @property
    def fraction(self) -> float:
        """The decisive fraction."""
        return self.decisive / self.draws if self.draws else math.nan

    @property
    def standard_error(self) -> float:
        """The binomial standard error of :attr:`fraction`."""
        f = self.fraction
        return math.sqrt(max(f * (1.0 - f), 0.0) / self.draws) if self.draws else math.nan


def monte_carlo_check(
    bench: BenchSpec,
    setup: MeasurementSetup,
    duration_s: float,
    limit_pa_m3_s: float,
    expected_pa_m3_s: float,
    draws: int = 200,
    seed: int = 0,
) -> MonteCarlo:
    """Draw ``draws`` tests of ``duration_s`` on a true leak of ``expected`` and judge each as a run does.

    Each draw: the gauge's white noise, rounded to the step the Type-B resolution uses (from a
    random start within a step), the thermometer's noise and rounding when compensated; then
    the compiled fit, ``bench``'s Type-B terms and ``decay_entry``'s verdict with E2930.
    """
    if draws < 1:
        raise InputError(f"the Monte Carlo check needs at least one draw, got {draws}")
    rng = np.random.default_rng(seed)
    type_b = setup.type_b(expected_pa_m3_s, duration_s)
    step = type_b.resolution_pa
    t_step = type_b.temperature_resolution_k
    n = math.floor(duration_s / setup.sample_period_s + 1e-9) + 1
    t = np.arange(n, dtype=np.float64) * setup.sample_period_s
    slope = -setup.sign * expected_pa_m3_s / setup.volume_m3
    outcomes: Counter[str] = Counter()
    rates = np.empty(draws)
    fit_se = np.empty(draws)
    expected_outcome = Outcome.PASS if expected_pa_m3_s < limit_pa_m3_s else Outcome.FAIL
    for i in range(draws):
        start = setup.level_pa + (rng.uniform(0.0, step) if step > 0.0 else 0.0)
        true_p = start + slope * t
        sigma = np.hypot(setup.gauge_noise_pa, setup.gauge_noise_relative * true_p)
        p = true_p + rng.standard_normal(n) * sigma
        if step > 0.0:
            p = np.round(p / step) * step
        temperature = None
        if setup.compensated:
            temperature = setup.temperature_k + rng.standard_normal(n) * setup.thermometer_noise_k
            if t_step > 0.0:
                temperature = np.round(temperature / t_step) * t_step
        fit = fit_decay(t, setup.sign * p, temperature, volume_m3=setup.volume_m3)
        fit, budget = with_type_b(
            fit, bench, setup.channel, (setup.volume,), setup.temperature_channel, p, temperature
        )
        entry = decay_entry(
            fit, setup.channel, (0.0, float(t[-1])), setup.sign, limit_pa_m3_s, setup.compensated, budget
        )
        outcomes[str(entry.outcome)] += 1
        rates[i] = fit.leak_rate_pa_m3_s
        fit_se[i] = budget.terms["fit"]
    return MonteCarlo(draws, seed, duration_s, dict(outcomes), expected_outcome, rates, fit_se)
