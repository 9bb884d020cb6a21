"""A trace's resolution (printed digits, value steps), its Type-B term, and the verdicts it allows."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.analysis import Verdict, decide, fit_decay
from rig.analysis.budget import TypeB, type_b_terms, uncertainty_budget
from rig.analysis.resolution import (
    PrintedDigits,
    ReadingSteps,
    Resolution,
    additional_time,
    infer_resolution,
    judge,
    printed_step,
    value_step,
    with_resolution,
)
from rig.analysis.verdict import ZERO_UNCERTAINTY

LITRE = 1e-3


@pytest.mark.parametrize(
    ("texts", "step"),
    [
        (["101325.0"], 0.1),
        (["1.0132e+05"], 10.0),  # five significant digits at 1e5
        (["1", "1", "1"], 1.0),
        (["-5.25", "-5.5"], 0.01),  # a sign is no digit
        ([".5", "5."], 1.0),  # one digit each; the coarser, at 10**0, rules
        (["1E-3", "2e-3"], 1e-3),
        (["+7"], 1.0),
        # A writer that drops trailing zeros: the most digits any cell shows set the step.
        (["99.9", "99.95", "100.05", "100.1"], 0.01),
        # Significant digits across a decade: the coarsest step, at the top.
        (["1.23e5", "9.87e4", "1.01e3"], 1000.0),
        (["0.000", "0.000"], 1e-3),  # zeros: their last place only
        (["0"], 1.0),
        (["  12.5  "], 0.1),
    ],
)
def test_printed_step(texts: list[str], step: float) -> None:
    assert printed_step(texts) == pytest.approx(step, rel=1e-12)


@pytest.mark.parametrize(
    "texts",
    [
        [],
        ["1_000", "1_000"],  # Python reads it; the rule does not
        ["\uff11\uff12"],  # full-width digits
        ["0e999"],  # a zero whose place is beyond any double
        ["1e-400"],  # a reading that underflows: its step is no double either
        ["1e1234567"],  # an exponent too long to be a reading's
    ],
)
def test_printed_step_of_nothing_usable_is_none(texts: list[str]) -> None:
    assert printed_step(texts) is None


def decimal_oracle(texts: list[str]) -> float | None:
    """The module's printed-digits rule, computed by Python's decimal module instead."""
    numbers = [Decimal(t.strip()) for t in texts]
    nonzero = [d for d in numbers if d != 0]
    if not nonzero:
        return 10.0 ** min(d.as_tuple().exponent for d in numbers)  # type: ignore[operator]
    top = max(d.adjusted() for d in nonzero)
    most = max(len(d.as_tuple().digits) for d in nonzero)
    return 10.0 ** (top - most + 1)


@given(
    st.lists(
        st.builds(
            lambda value, places, form: format(Decimal(value).scaleb(-places), form),
            st.integers(-(10**9), 10**9),
            st.integers(-6, 12),
            st.sampled_from(["f", "e", "E", ""]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_printed_step_agrees_with_the_decimal_module(texts: list[str]) -> None:
    assert printed_step(texts) == pytest.approx(decimal_oracle(texts), rel=1e-12)


def test_many_shapes_are_folded_as_they_come() -> None:
    # repr of random doubles: 15 to 17 digits, zeros anywhere, tens of thousands of shapes.
    rng = np.random.default_rng(6)
    texts = [repr(float(v)) for v in rng.uniform(1e5, 2e5, 20_000)]
    digits = PrintedDigits()
    for text in texts:
        digits.add(text)
    assert digits.step == pytest.approx(decimal_oracle(texts), rel=1e-12)
    assert digits.finest_place == min(Decimal(t).as_tuple().exponent for t in texts)


def test_value_step_is_the_grid_of_the_printed_counts() -> None:
    # 0.5 Pa steps printed to 0.1 Pa: the digits show 0.1, the values 0.5.
    values = np.array([100.0, 100.5, 101.5, 103.0, np.nan])
    assert value_step(values, -1) == pytest.approx(0.5, rel=1e-12)
    # A common offset cancels in the steps.
    assert value_step(values + 0.3, -1) == pytest.approx(0.5, rel=1e-12)
    # Levels whose gaps share a factor show only that factor: the grid can overstate, never understate.
    assert value_step(np.array([0.0, 1.0, 2.0]), -1) == pytest.approx(1.0)
    assert value_step(np.array([0.0, 1.0, 2.5]), -1) == pytest.approx(0.5)


def test_value_step_without_exact_digits_is_the_grid_of_the_gaps() -> None:
    assert value_step(np.array([3.0, 1.0, 1.25, 2.0])) == pytest.approx(0.25)
    # 3 x 0.1 written by repr is 0.30000000000000004: digits past a double's precision, whose
    # counts no double holds exactly; the gaps still show the grid.
    texts = [repr(k * 0.1) for k in (3, 6, 15)]
    assert texts[0] == "0.30000000000000004"
    values = np.array([float(x) for x in texts])
    assert value_step(values, -17) == pytest.approx(0.3, rel=1e-9)
    texts = [repr(k * 0.1) for k in (2, 5, 9, 14)]  # 1.4000000000000001 among them
    values = np.array([float(x) for x in texts])
    assert value_step(values, -16) == pytest.approx(0.1, rel=1e-9)
    # Unquantised noise sits on no grid, and a gap near a double's rounding is no step.
    rng = np.random.default_rng(1)
    assert value_step(1e5 + rng.normal(0.0, 1.0, 1000)) is None
    assert value_step(np.array([1e5, 1e5 + 2e-9]), -15) is None


@pytest.mark.filterwarnings("error")
def test_values_a_doubles_range_apart_sit_on_no_grid_and_warn_nothing() -> None:
    # Their gaps overflow a double: no step, and no RuntimeWarning on a user's terminal.
    assert value_step(np.array([1e308, -1e308, 1e308])) is None
    # Printed as whole counts of 1e305 they do sit on that grid (17 x 1e305), still quietly.
    assert value_step(np.array([1.7e308, -1.7e308, 0.0]), 305) == pytest.approx(1.7e308)


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], [5.0], [5.0, 5.0, np.nan]])
def test_value_step_needs_two_distinct_values(values: list[float]) -> None:
    assert value_step(np.array(values, dtype=np.float64), 0) is None


@pytest.mark.parametrize(
    ("steps", "given", "expected"),
    [
        (ReadingSteps(0.1, 0.5), None, Resolution(0.5, "value steps")),
        (ReadingSteps(1.0, 0.5), None, Resolution(1.0, "printed digits")),
        (ReadingSteps(1.0, 1.0), None, Resolution(1.0, "printed digits")),
        (ReadingSteps(None, 0.5), None, Resolution(0.5, "value steps")),
        (ReadingSteps(1.0, None), None, Resolution(1.0, "printed digits")),
        (ReadingSteps(None, None), None, Resolution(0.0, "none")),
        (ReadingSteps(math.inf, 0.0), None, Resolution(0.0, "none")),  # an overflowed conversion
        (ReadingSteps(1.0, 0.5), 3.0, Resolution(3.0, "given")),
    ],
)
def test_infer_resolution(steps: ReadingSteps, given: float | None, expected: Resolution) -> None:
    assert infer_resolution(steps, given) == expected


def flat(duration_s: float, level_pa: float = 1e5) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(0.0, duration_s + 0.5)
    return t, np.full(t.size, level_pa)


def test_a_flat_trace_without_resolution_is_never_a_pass() -> None:
    t, p = flat(2.0, 1.0)
    fit = fit_decay(t, p, volume_m3=LITRE)
    assert fit.stderr_pa_m3_s == 0.0
    bare = decide(fit, 1e-30)
    assert bare.verdict is Verdict.INCONCLUSIVE and bare.refusal == ZERO_UNCERTAINTY
    assert bare.additional_time_s is None
    # Nor is a perfect line a FAIL: a zero uncertainty bounds nothing either way.
    line = fit_decay(t, 1e5 - 100.0 * t, volume_m3=LITRE)
    assert decide(line, 1e-9).verdict is Verdict.INCONCLUSIVE
    guarded, budget = with_resolution(fit, Resolution(0.0, "none"), p)
    assert judge(guarded, budget, 1e-30).verdict is Verdict.INCONCLUSIVE


def test_the_resolution_is_the_engines_type_b_term() -> None:
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 600.0)
    p = 2e5 - 0.01 * t + rng.normal(0.0, 0.2, t.size)
    fit = fit_decay(t, p, volume_m3=LITRE)
    guarded, budget = with_resolution(fit, Resolution(2.0, "given"), p)
    terms, resolves = type_b_terms(
        fit.leak_rate_pa_m3_s,
        LITRE,
        fit.line.duration,
        float(np.mean(p)),
        293.15,
        TypeB(resolution_pa=2.0),
        False,
    )
    assert terms["resolution"] == pytest.approx(LITRE * 2.0 / (599.0 * math.sqrt(3.0)), rel=1e-12)
    assert budget == uncertainty_budget(fit, TypeB(resolution_pa=2.0), float(np.mean(p)), 293.15, False)
    assert guarded.stderr_pa_m3_s == pytest.approx(
        math.hypot(fit.stderr_pa_m3_s, terms["resolution"]), rel=1e-12
    )
    assert budget.test_resolution_pa_m3_s == pytest.approx(resolves, rel=1e-12)
    assert guarded.line == fit.line


def test_a_flat_trace_of_known_resolution_has_a_finite_bound() -> None:
    t, p = flat(3600.0)
    guarded, budget = with_resolution(fit_decay(t, p, volume_m3=LITRE), Resolution(1.0, "given"), p)
    resolves = LITRE * 1.0 / 3600.0  # one step over the test, V·q/D
    assert budget.test_resolution_pa_m3_s == pytest.approx(resolves, rel=1e-12)
    assert 0.0 < guarded.upper_bound(0.95) < resolves
    assert judge(guarded, budget, 20.0 * resolves).verdict is Verdict.PASS
    # Below what a step over the test can resolve: not a pass.
    assert judge(guarded, budget, 0.9 * resolves).verdict is Verdict.INCONCLUSIVE


def test_a_pass_the_resolution_cannot_certify_is_refused_as_the_engine_does() -> None:
    t, p = flat(3600.0)
    guarded, budget = with_resolution(fit_decay(t, p, volume_m3=LITRE), Resolution(1.0, "given"), p)
    resolves = LITRE / 3600.0
    limit = 5.0 * resolves  # the bound passes it; E2930 asks for a tenth of the limit
    assert decide(guarded, limit).verdict is Verdict.PASS
    refused = judge(guarded, budget, limit)
    assert refused.verdict is Verdict.INCONCLUSIVE
    assert refused.refusal is not None and "ASTM E2930" in refused.refusal
    assert refused.additional_time_s == pytest.approx(3600.0, rel=1e-9)  # twice as long resolves it
    t2, p2 = flat(3600.0 + refused.additional_time_s)
    longer, budget2 = with_resolution(fit_decay(t2, p2, volume_m3=LITRE), Resolution(1.0, "given"), p2)
    assert judge(longer, budget2, limit).verdict is Verdict.PASS


def test_the_further_time_follows_the_resolution_as_one_over_d() -> None:
    # A flat trace's uncertainty is its resolution's alone: it falls as 1/D, not as D^(-3/2).
    t, p = flat(600.0)
    guarded, budget = with_resolution(fit_decay(t, p, volume_m3=LITRE), Resolution(1.0, "given"), p)
    limit = 1.2 * guarded.upper_bound(0.95) / 2.0  # about half of what this test bounds
    first = judge(guarded, budget, limit)
    assert first.verdict is Verdict.INCONCLUSIVE and first.additional_time_s is not None
    t2, p2 = flat(600.0 + first.additional_time_s)
    longer, _ = with_resolution(fit_decay(t2, p2, volume_m3=LITRE), Resolution(1.0, "given"), p2)
    assert decide(longer, limit).verdict is Verdict.PASS
    # The old D^(-3/2) law would have stopped short.
    short = 600.0 * (guarded.stderr_pa_m3_s / (guarded.stderr_pa_m3_s / 2.0)) ** (2.0 / 3.0)
    assert 600.0 + first.additional_time_s > short


def test_terms_a_longer_test_cannot_shrink_leave_no_further_time() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(0.0, 300.0)
    fit = fit_decay(t, 2e5 - 0.01 * t + rng.normal(0.0, 0.2, t.size), volume_m3=LITRE)
    budget = uncertainty_budget(fit, TypeB(volume_rel=1.0, resolution_pa=0.1), 2e5, 293.15, False)
    limit = fit.leak_rate_pa_m3_s * 1.05  # inside a 100 % volume uncertainty for good
    assert additional_time(fit, budget, limit, 0.95) is None
