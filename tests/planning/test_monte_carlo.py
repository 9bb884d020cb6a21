"""The Monte Carlo check: synthetic tests of the planned length through the engine's fit and verdict.

The plan and the engine must agree: the decisive fraction of the draws is the planned power,
the fit's error is the planned one, and the E2930 edge falls where the plan put it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.analysis.planner import plan_duration
from rig.errors import InputError
from rig.planning import choose_measurement, monte_carlo_check, setup_for
from tests.planning.bench_files import LIMIT, procedure_of


def test_monte_carlo_agrees_with_the_planned_power(tmp_path: Path) -> None:
    # Fit-bound (no Type-B to speak of): the decisive fraction is the power, within sampling error.
    procedure = procedure_of(tmp_path)
    setup = setup_for(procedure, choose_measurement(procedure))
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None
    mc = monte_carlo_check(
        procedure.bench, setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=400, seed=7
    )
    power = plan.achieved_power()
    assert 0.9 <= power < 0.95
    assert mc.fraction >= 0.85
    assert abs(mc.fraction - power) <= 3.0 * math.sqrt(power * (1.0 - power) / mc.draws)
    assert set(mc.outcomes) <= {"PASS", "INCONCLUSIVE"}
    # The fit's own error as the engine computes it is the planned one.
    assert mc.fit_stderrs_pa_m3_s.mean() == pytest.approx(plan.model.test.terms["fit"], rel=0.05)
    assert mc.rates_pa_m3_s.mean() == pytest.approx(plan.expected_pa_m3_s, rel=0.05)


def test_monte_carlo_finds_the_e2930_edge_where_the_plan_does(tmp_path: Path) -> None:
    procedure = procedure_of(tmp_path, model="TPG362", noise="0.3 Pa", resolution="0.01 Pa")
    setup = setup_for(procedure, choose_measurement(procedure))
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None
    at_plan = monte_carlo_check(
        procedure.bench, setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=100, seed=1
    )
    assert at_plan.fraction == 1.0
    # Three seconds short the engine refuses every pass: the test cannot resolve a tenth of the limit.
    short = monte_carlo_check(
        procedure.bench, setup, plan.duration_s - 3.0, LIMIT, plan.expected_pa_m3_s, draws=50, seed=1
    )
    assert short.outcomes == {"INCONCLUSIVE": 50}


def test_monte_carlo_of_a_compensated_fail(tmp_path: Path) -> None:
    procedure = procedure_of(tmp_path, model="TPG362", noise="0.3 Pa", temperature=True)
    setup = setup_for(procedure, choose_measurement(procedure))
    plan = plan_duration(setup, LIMIT, 3.0 * LIMIT)
    assert plan.duration_s is not None and plan.expected_outcome == "FAIL"
    mc = monte_carlo_check(
        procedure.bench, setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=200, seed=3
    )
    assert mc.expected_outcome == "FAIL"
    assert mc.fraction >= plan.achieved_power() - 3.0 * 0.03


def test_a_check_needs_a_draw(tmp_path: Path) -> None:
    procedure = procedure_of(tmp_path)
    setup = setup_for(procedure, choose_measurement(procedure))
    with pytest.raises(InputError, match="at least one draw"):
        monte_carlo_check(procedure.bench, setup, 60.0, LIMIT, LIMIT / 2.0, draws=0)
