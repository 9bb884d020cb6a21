"""The individuals (X / moving-range) chart's limits, against examples worked by hand and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.analysis.control_chart import D2, E2, individuals_limits, out_of_control

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
series = st.lists(finite, min_size=2, max_size=40)


def close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * (1.0 + scale))


def test_a_late_jump_is_flagged_worked_by_hand() -> None:
    """Values 2, 3, 2, 3, 2, 3, 2, 9.

    center = 26/8 = 3.25; moving ranges 1, 1, 1, 1, 1, 1, 7, so MR̄ = 13/7 = 1.857142857;
    half-width = 2.66 · 13/7 = 34.58/7 = 4.94; limits 3.25 ∓ 4.94 = −1.69 and 8.19.
    9 > 8.19: the last run alone is out of control.
    """
    values = [2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 9.0]
    limits = individuals_limits(values)
    assert limits is not None
    assert limits.center == pytest.approx(3.25)
    assert limits.moving_range_mean == pytest.approx(13 / 7)
    assert limits.lower == pytest.approx(-1.69)
    assert limits.upper == pytest.approx(8.19)
    assert out_of_control(values, limits) == [False] * 7 + [True]


def test_an_outlier_among_few_runs_widens_its_own_limits_worked_by_hand() -> None:
    """Values 1, 2, 3, 2, 1, 10.

    center = 19/6 = 3.1667; moving ranges 1, 1, 1, 1, 9, so MR̄ = 13/5 = 2.6; half-width
    = 2.66 · 2.6 = 6.916; limits −3.7493 and 10.0827. 10 < 10.0827: the jump inflates the moving
    range it is judged by, and among six runs it is not flagged (the chart's known weakness).
    """
    values = [1.0, 2.0, 3.0, 2.0, 1.0, 10.0]
    limits = individuals_limits(values)
    assert limits is not None
    assert limits.center == pytest.approx(19 / 6)
    assert limits.moving_range_mean == pytest.approx(2.6)
    assert limits.lower == pytest.approx(19 / 6 - 6.916)
    assert limits.upper == pytest.approx(10.0827, abs=1e-4)
    assert not any(out_of_control(values, limits))


def test_the_constant_is_three_over_d2_as_the_tables_round_it() -> None:
    assert round(3.0 / D2, 2) == E2 == 2.66


@pytest.mark.parametrize("values", [[], [4.2]])
def test_fewer_than_two_values_have_no_limits_and_flag_nothing(values: list[float]) -> None:
    assert individuals_limits(values) is None
    assert out_of_control(values, None) == [False] * len(values)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_no_finite_number_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        individuals_limits([1.0, bad, 2.0])


def test_a_value_on_a_limit_is_not_out_of_control() -> None:
    limits = individuals_limits([0.0, 1.0])
    assert limits is not None
    assert not limits.outside(limits.upper) and not limits.outside(limits.lower)
    assert limits.outside(math.nextafter(limits.upper, math.inf))
    assert limits.outside(math.nextafter(limits.lower, -math.inf))


@given(series)
def test_limits_are_symmetric_about_the_mean(values: list[float]) -> None:
    limits = individuals_limits(values)
    assert limits is not None
    scale = max(map(abs, values))
    assert close(limits.center, math.fsum(values) / len(values), scale)
    assert close(limits.upper - limits.center, limits.center - limits.lower, scale)
    assert close(limits.upper - limits.center, E2 * limits.moving_range_mean, scale)
    assert limits.lower <= limits.center <= limits.upper


@given(series, finite)
def test_shifting_the_values_shifts_the_limits(values: list[float], shift: float) -> None:
    before, after = individuals_limits(values), individuals_limits([v + shift for v in values])
    assert before is not None and after is not None
    scale = max(map(abs, values)) + abs(shift)
    assert close(after.center, before.center + shift, scale)
    assert close(after.lower, before.lower + shift, scale)
    assert close(after.upper, before.upper + shift, scale)
    assert close(after.moving_range_mean, before.moving_range_mean, scale)


@given(series, st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_the_values_scales_the_limits(values: list[float], factor: float) -> None:
    before, after = individuals_limits(values), individuals_limits([v * factor for v in values])
    assert before is not None and after is not None
    scale = max(map(abs, values)) * max(factor, 1.0) * 4
    assert close(after.center, before.center * factor, scale)
    assert close(after.lower, before.lower * factor, scale)
    assert close(after.upper, before.upper * factor, scale)
    assert out_of_control([v * factor for v in values], after) == out_of_control(values, before) or any(
        close(v * factor, edge, scale) for v in values for edge in (after.lower, after.upper)
    )


@given(finite, st.integers(min_value=2, max_value=30))
def test_constant_values_have_zero_width_and_flag_nothing(value: float, n: int) -> None:
    values = [value] * n
    limits = individuals_limits(values)
    assert limits is not None
    assert limits.moving_range_mean == 0.0
    assert limits.lower == limits.center == limits.upper == pytest.approx(value)
    assert out_of_control(values, limits) == [False] * n
