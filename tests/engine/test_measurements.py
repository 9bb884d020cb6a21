"""Fits turned into measurements (rig.engine.measurements): entries, resolution, reference leaks, segments."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rig.analysis import DecayFit, decide, fit_decay
from rig.bench import BenchSpec, load_bench
from rig.engine.measurements import (
    COVERAGE_K,
    NOT_ISOLATED,
    SegmentRate,
    decay_entry,
    finite_part,
    largest_magnitude,
    leaking_segment,
    reference_leak_entry,
    with_type_b,
)
from rig.outcome import Outcome
from rig.record.measurement import UNIT, Measurement

LITRE = 1e-3
BENCH = """\
bench: gauges
instruments:
  daq: {model: DAQ970A}
  gauges: {model: TPG362}
volumes:
  article: {size: 1 L}
channels:
  p_stepped: {instrument: daq, channel: 101, measures: pressure, volume: article, resolution: 10 Pa}
  p_analog: {instrument: daq, channel: 102, measures: pressure, volume: article}
  p_digits: {instrument: gauges, channel: 1, measures: pressure, volume: article}
"""


@pytest.fixture
def bench(tmp_path: Path) -> BenchSpec:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH)
    return load_bench(path)


def times(n: int = 301, start: float = 0.0) -> npt.NDArray[np.float64]:
    return start + np.arange(n, dtype=np.float64)


def synthetic(slope_pa_s: float, noise_pa: float, seed: int, volume_m3: float = LITRE) -> DecayFit:
    """A 300 s hold at 1 bar with a known slope and white noise, fitted."""
    t = times()
    p = 100_000.0 + slope_pa_s * t + np.random.default_rng(seed).normal(0.0, noise_pa, t.size)
    return fit_decay(t, p, volume_m3=volume_m3)


def exact(leak_rate: float, stderr: float, template: DecayFit) -> DecayFit:
    """``template`` with a leak rate and standard error set exactly (volume 1 m³, no Type-B term)."""
    line = replace(template.line, slope=-leak_rate, slope_stderr=stderr)
    return replace(template, line=line, volume_m3=1.0, type_b_pa_m3_s=0.0)


# --- decay_entry ---------------------------------------------------------------------------------


def test_a_decay_entry_reports_the_fit() -> None:
    t = times(start=1000.0)
    p = 200_000.0 - 0.5 * (t - 1000.0) + np.random.default_rng(3).normal(0.0, 0.3, t.size)
    fit = fit_decay(t, p, volume_m3=LITRE)
    entry = decay_entry(fit, "p_article", (1000.0, 1300.0), 1.0, None, compensated=False)
    assert entry.value_pa_m3_s == fit.leak_rate_pa_m3_s == pytest.approx(5e-4, rel=1e-2)
    assert entry.unit == UNIT == "Pa*m**3/s"
    assert entry.stderr_pa_m3_s == fit.stderr_pa_m3_s and entry.stderr_type_b_pa_m3_s == 0.0
    assert entry.ucl95_pa_m3_s == fit.upper_bound(0.95) and entry.lcl95_pa_m3_s == fit.lower_bound(0.95)
    assert entry.lcl95_pa_m3_s < entry.value_pa_m3_s < entry.ucl95_pa_m3_s
    assert entry.n == t.size and entry.channel == "p_article"
    assert entry.window_s == (1000.0, 1300.0)
    assert entry.outcome == "MEASURED"
    assert entry.limit_pa_m3_s is None
    assert "limit" not in entry.to_json() and "additional_time_s" not in entry.to_json()
    assert entry.line.t0_s == 1000.0 and entry.line.compensated_to_k is None


def line_at(entry: Measurement, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    line = entry.line
    assert line is not None
    return np.asarray(line.intercept_pa + line.slope_pa_s * (t - line.t0_s))


def test_the_line_of_a_decay_is_in_pressure_coordinates() -> None:
    t = times(start=50.0)
    p = 200_000.0 - 0.5 * (t - 50.0) + np.random.default_rng(4).normal(0.0, 0.3, t.size)
    fit = fit_decay(t, p, volume_m3=LITRE)
    entry = decay_entry(fit, "p", (50.0, 350.0), 1.0, None, compensated=False)
    assert entry.line.slope_pa_s == pytest.approx(-0.5, rel=1e-2)
    np.testing.assert_allclose(line_at(entry, t), fit.line.predict(t), rtol=0, atol=1e-6)
    np.testing.assert_allclose(line_at(entry, t), 200_000.0 - 0.5 * (t - 50.0), rtol=0, atol=0.2)


def test_the_line_of_a_rise_is_in_pressure_coordinates_too() -> None:
    # A rate of rise is fitted on −p (so a rise reads as a positive leak into the volume); the
    # line is recorded as the pressures rose, not as they were fitted.
    t = times(start=10.0)
    p = 100.0 + 0.5 * (t - 10.0) + np.random.default_rng(5).normal(0.0, 0.3, t.size)
    fit = fit_decay(t, -p, volume_m3=LITRE)
    entry = decay_entry(fit, "p", (10.0, 310.0), -1.0, None, compensated=False)
    assert entry.value_pa_m3_s == pytest.approx(5e-4, rel=1e-2)  # positive: gas comes in
    assert entry.line.slope_pa_s == pytest.approx(0.5, rel=1e-2)
    assert entry.line.intercept_pa == pytest.approx(100.0, abs=0.2)
    np.testing.assert_allclose(line_at(entry, t), -fit.line.predict(t), rtol=0, atol=1e-9)
    np.testing.assert_allclose(line_at(entry, t), 100.0 + 0.5 * (t - 10.0), rtol=0, atol=0.2)


def test_a_compensated_entry_names_its_reference_temperature() -> None:
    t = times()
    p = 200_000.0 - 0.5 * t
    fit = fit_decay(t, p, temperature=np.full(t.size, 293.15), volume_m3=LITRE, t_ref_k=300.0)
    entry = decay_entry(fit, "p", (0.0, 300.0), 1.0, None, compensated=True)
    assert entry.line.compensated_to_k == 300.0
    # The line is of p·T_ref/T.
    np.testing.assert_allclose(line_at(entry, t), p * 300.0 / 293.15, rtol=1e-9)


@pytest.mark.parametrize(("limit", "outcome"), [(1e-3, "PASS"), (2e-4, "FAIL"), (5e-4, "INCONCLUSIVE")])
def test_a_decay_entry_against_a_limit(limit: float, outcome: str) -> None:
    fit = synthetic(-0.5, 0.3, seed=6)
    entry = decay_entry(fit, "p", (0.0, 300.0), 1.0, limit, compensated=False)
    decision = decide(fit, limit)
    assert entry.outcome == outcome == decision.verdict.value
    assert entry.limit_pa_m3_s == limit
    assert entry.additional_time_s == decision.additional_time_s
    if outcome == "INCONCLUSIVE":
        assert entry.additional_time_s is not None and entry.additional_time_s > 0.0
    else:
        assert entry.additional_time_s is None


@pytest.mark.parametrize(("sign", "went"), [(1.0, "rose"), (-1.0, "fell")])
def test_a_pressure_going_the_wrong_way_is_no_pass(sign: float, went: str) -> None:
    # A decay whose pressure rises (or a rise whose pressure falls) beyond its uncertainty is
    # not sealed off: a valve to a supply or a pump is still open, and that hides any leak.
    # The fitted trace is p·sign: it rises either way, about 8 standard errors the wrong way.
    fit = synthetic(0.05, 0.3, seed=7)
    assert fit.upper_bound(0.95) < 0.0
    entry = decay_entry(fit, "p", (0.0, 300.0), sign, 1e-3, compensated=False)
    assert decide(fit, 1e-3).verdict.value == "PASS"  # what the bound alone would have said
    assert entry.outcome == "INCONCLUSIVE" and entry.additional_time_s is None
    assert entry.refusal.startswith(f"{NOT_ISOLATED}: the pressure {went} during the measurement")


def test_a_tight_volume_whose_rate_straddles_zero_still_passes() -> None:
    # Noise alone puts a tight volume's rate below zero half the time: that is no refusal.
    refused = 0
    for seed in range(200):
        fit = synthetic(0.0, 0.3, seed=seed)
        refused += decay_entry(fit, "p", (0.0, 300.0), 1.0, 1e-3, compensated=False).outcome != "PASS"
    assert refused <= 2  # about 0.13 % expected


# --- with_type_b ---------------------------------------------------------------------------------


def test_a_flat_quantized_trace_is_not_a_silent_pass(bench: BenchSpec) -> None:
    # A gauge stepping 10 Pa reads one value for 300 s: the fit sees no slope and no scatter, so
    # its interval is empty (decide() refuses a zero uncertainty outright). The step is what it
    # cannot see.
    t = times()
    p = np.full(t.size, 200_000.0)
    fit = fit_decay(t, p, volume_m3=LITRE)
    limit = 1e-6
    assert fit.stderr_pa_m3_s == 0.0
    bare = decay_entry(fit, "p_stepped", (0.0, 300.0), 1.0, limit, compensated=False)
    assert bare.outcome == "INCONCLUSIVE"
    guarded, budget = with_type_b(fit, bench, "p_stepped", ("article",), None, p)
    expected = LITRE * 10.0 / (300.0 * math.sqrt(3.0))
    assert budget.terms["resolution"] == pytest.approx(expected, rel=1e-12)
    assert guarded.stderr_pa_m3_s == pytest.approx(budget.combined, rel=1e-12)
    assert guarded.stderr_pa_m3_s >= expected
    assert guarded.line == fit.line and guarded.volume_m3 == fit.volume_m3
    entry = decay_entry(guarded, "p_stepped", (0.0, 300.0), 1.0, limit, compensated=False, budget=budget)
    assert entry.uncertainty.terms["resolution"] == pytest.approx(expected, rel=1e-12)
    assert entry.outcome == "INCONCLUSIVE"
    # A limit well above what the test can hide, and resolving (E2930), still passes.
    loose = decay_entry(guarded, "p_stepped", (0.0, 300.0), 1.0, 1000.0 * expected, False, budget)
    assert loose.outcome == "PASS" and loose.e2930.met and loose.refusal is None


def test_a_pass_the_test_cannot_resolve_is_refused(bench: BenchSpec) -> None:
    # ASTM E2930: the test's resolution (one step over the test, V·step/D) must be a tenth of the
    # limit. A limit the fit would pass but the step cannot resolve is INCONCLUSIVE, saying why.
    t = times()
    p = np.full(t.size, 200_000.0)
    guarded, budget = with_type_b(fit_decay(t, p, volume_m3=LITRE), bench, "p_stepped", ("article",), None, p)
    resolution = LITRE * 10.0 / 300.0
    limit = 5.0 * resolution  # needs a resolution of limit/10
    entry = decay_entry(guarded, "p_stepped", (0.0, 300.0), 1.0, limit, False, budget)
    assert entry.e2930.test_resolution_pa_m3_s == pytest.approx(resolution)
    assert entry.e2930.met is False
    assert entry.outcome == "INCONCLUSIVE"
    assert "ASTM E2930" in entry.refusal
    # The resolution falls as 1/D: twice as long resolves a tenth of this limit.
    assert entry.additional_time_s == pytest.approx(300.0)


def test_a_controller_s_last_digit_is_a_step_at_the_trace_s_level(bench: BenchSpec) -> None:
    # The TPG prints 5 significant digits: 10 Pa steps at 2 bar, 1 Pa steps at 0.5 bar.
    t = times()
    for level, step in [(200_000.0, 10.0), (50_000.0, 1.0)]:
        p = np.full(t.size, level)
        p[7] = np.nan  # a dropout does not change the level
        _, budget = with_type_b(fit_decay(t, p, volume_m3=LITRE), bench, "p_digits", ("article",), None, p)
        assert budget.terms["resolution"] == pytest.approx(LITRE * step / (300.0 * math.sqrt(3.0)))


def test_a_gauge_without_steps_adds_no_resolution_term(bench: BenchSpec) -> None:
    t = times()
    p = np.full(t.size, 200_000.0)
    fit = fit_decay(t, p, volume_m3=LITRE)
    _, budget = with_type_b(fit, bench, "p_analog", ("article",), None, p)
    assert budget.terms["resolution"] == 0.0
    # Nothing finite to take a level from: no printed digit either.
    _, budget = with_type_b(fit, bench, "p_digits", ("article",), None, np.full(t.size, np.nan))
    assert budget.terms["resolution"] == 0.0


# --- reference_leak_entry ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def background() -> DecayFit:
    return synthetic(-0.002, 0.5, seed=11)  # 2e-6 Pa·m³/s of the volume's own


@pytest.fixture(scope="module")
def with_leak() -> DecayFit:
    return synthetic(-0.802, 0.5, seed=12)  # plus a standard of 8e-4 Pa·m³/s


def test_a_reference_leak_entry_reports_the_difference(background: DecayFit, with_leak: DecayFit) -> None:
    entry = reference_leak_entry(with_leak, background, 8e-4, 0.1)
    measured = with_leak.leak_rate_pa_m3_s - background.leak_rate_pa_m3_s
    assert entry.value_pa_m3_s == pytest.approx(measured) and measured == pytest.approx(8e-4, rel=2e-3)
    assert entry.unit == UNIT
    own = math.hypot(with_leak.stderr_pa_m3_s, background.stderr_pa_m3_s)
    assert entry.stderr_pa_m3_s == pytest.approx(own)
    assert entry.reference.certified_pa_m3_s == 8e-4 and entry.reference.tolerance_relative == 0.1
    assert entry.reference.deviation_relative == pytest.approx((measured - 8e-4) / 8e-4)
    assert entry.reference.background_pa_m3_s == background.leak_rate_pa_m3_s
    assert entry.n == with_leak.n + background.n == 602
    assert entry.outcome == "PASS"


def stderr_and_measured(with_leak: DecayFit, background: DecayFit) -> tuple[float, float]:
    measured = abs(with_leak.leak_rate_pa_m3_s - background.leak_rate_pa_m3_s)
    return math.hypot(with_leak.stderr_pa_m3_s, background.stderr_pa_m3_s), measured


# Each band sits 1 % of k·σ inside or outside the k = 2 boundary: a k of 1.96 or 2.04 would flip one.
@pytest.mark.parametrize(
    ("certified_share", "band_in_stderrs", "outcome"),
    [
        (1.01, +2.02, "PASS"),  # off + 2σ inside the band
        (1.01, +1.98, "INCONCLUSIVE"),  # the k = 2 interval reaches out of the band
        (0.5, -2.02, "FAIL"),  # off − 2σ beyond the band: all of the interval is out
        (0.5, -1.98, "INCONCLUSIVE"),  # the interval still reaches into the band
        (0.99, +2.02, "PASS"),  # below the certificate as above it
        (2.0, -2.02, "FAIL"),
    ],
)
def test_the_reference_leak_outcome_follows_the_k2_interval(
    background: DecayFit, with_leak: DecayFit, certified_share: float, band_in_stderrs: float, outcome: str
) -> None:
    stderr, measured = stderr_and_measured(with_leak, background)
    certified = measured * certified_share
    band = abs(measured - certified) + band_in_stderrs * stderr
    assert band > 0.0
    entry = reference_leak_entry(with_leak, background, certified, band / certified)
    assert entry.outcome == outcome


def test_the_k2_boundaries_themselves(with_leak: DecayFit) -> None:
    # Exactly representable numbers: certified 1, band 0.25, measured 1.125 or 1.5.
    none = exact(0.0, 0.0, with_leak)
    assert COVERAGE_K == 2.0
    assert reference_leak_entry(exact(1.125, 0.0625, with_leak), none, 1.0, 0.25).outcome == "PASS"
    assert reference_leak_entry(exact(1.125, 0.0626, with_leak), none, 1.0, 0.25).outcome == "INCONCLUSIVE"
    assert reference_leak_entry(exact(1.5, 0.125, with_leak), none, 1.0, 0.25).outcome == "INCONCLUSIVE"
    assert reference_leak_entry(exact(1.5, 0.1249, with_leak), none, 1.0, 0.25).outcome == "FAIL"


def test_both_fits_uncertainties_count(with_leak: DecayFit) -> None:
    # σ of 0.1 on the leak alone passes a band of 0.25 around an exact 1.0; 0.3 and 0.4 make 0.5.
    alone = reference_leak_entry(exact(1.0, 0.1, with_leak), exact(0.0, 0.0, with_leak), 1.0, 0.25)
    assert alone.outcome == "PASS"
    entry = reference_leak_entry(exact(1.0, 0.3, with_leak), exact(0.0, 0.4, with_leak), 1.0, 0.25)
    assert entry.stderr_pa_m3_s == pytest.approx(0.5)
    assert entry.outcome == "INCONCLUSIVE"


def test_a_leak_into_the_volume_is_sized_like_one_out_of_it(with_leak: DecayFit) -> None:
    # A standard opening into an evacuated volume makes a rise: negative leak rates, same size.
    rising = reference_leak_entry(exact(-1.01, 0.01, with_leak), exact(-0.01, 0.01, with_leak), 1.0, 0.1)
    falling = reference_leak_entry(exact(1.01, 0.01, with_leak), exact(0.01, 0.01, with_leak), 1.0, 0.1)
    assert rising.value_pa_m3_s == pytest.approx(1.0) == falling.value_pa_m3_s
    assert rising.outcome == falling.outcome == "PASS"
    assert rising.reference.background_pa_m3_s == pytest.approx(-0.01)


# --- segments ------------------------------------------------------------------------------------


def segment(name: str, value: float, lcl95: float, outcome: Outcome = Outcome.MEASURED) -> SegmentRate:
    return SegmentRate(name, Measurement(value_pa_m3_s=value, lcl95_pa_m3_s=lcl95, outcome=outcome))


def test_a_segment_rate_and_its_bound() -> None:
    s = segment("prk", 2e-5, 1e-5)
    assert s.rate == 2e-5 and s.lower_bound == 1e-5
    # A segment without a rate (a gauge that never read) ranks last.
    assert segment("ro", math.nan, math.nan).rate == -math.inf
    ranked = sorted([segment("ro", math.nan, math.nan), segment("prk", 2e-5, 1e-5)], key=lambda r: -r.rate)
    assert [r.name for r in ranked] == ["prk", "ro"]


def test_with_a_limit_the_worst_failing_segment_is_named() -> None:
    ranked = [
        segment("a", 5e-5, 1e-5, Outcome.INCONCLUSIVE),  # worst estimate, but not beyond doubt
        segment("b", 4e-5, 3e-5, Outcome.FAIL),
        segment("c", 3e-5, 2e-5, Outcome.FAIL),
    ]
    assert leaking_segment(ranked, has_limit=True) == "b"
    assert leaking_segment(ranked[:1], has_limit=True) is None
    # With a limit only the outcome counts, not the bound.
    assert leaking_segment([segment("d", 1e-5, 5e-6, Outcome.PASS)], has_limit=True) is None


def test_without_a_limit_a_segment_leaking_beyond_doubt_is_named() -> None:
    ranked = [segment("a", 5e-6, -1e-6), segment("b", 4e-6, 1e-6), segment("c", 1e-6, 5e-7)]
    assert leaking_segment(ranked, has_limit=False) == "b"
    # Without a limit the outcome (MEASURED, or any other) does not count, only the bound.
    assert leaking_segment([segment("d", 5e-6, -1e-7, Outcome.FAIL)], has_limit=False) is None
    assert leaking_segment([], has_limit=False) is None


def test_from_fits_a_quiet_set_names_none_and_a_leak_is_found() -> None:
    quiet = [synthetic(0.0, 0.5, seed=s, volume_m3=10.0) for s in (21, 22, 23)]
    leaking = synthetic(-0.01, 0.5, seed=24, volume_m3=10.0)  # 0.1 Pa·m³/s, 25 σ
    entries = {f"s{i}": decay_entry(f, f"p{i}", (0.0, 300.0), 1.0, None, False) for i, f in enumerate(quiet)}
    assert all(e.lcl95_pa_m3_s <= 0.0 for e in entries.values())  # the seeds give no false alarm

    def ranked(e: dict[str, Measurement]) -> list[SegmentRate]:
        return sorted((SegmentRate(n, v) for n, v in e.items()), key=lambda r: -r.rate)

    assert leaking_segment(ranked(entries), has_limit=False) is None
    entries["leaky"] = decay_entry(leaking, "p9", (0.0, 300.0), 1.0, None, False)
    assert leaking_segment(ranked(entries), has_limit=False) == "leaky"
    limited = {n: decay_entry(f, n, (0.0, 300.0), 1.0, 0.01, False) for n, f in [("leaky", leaking)]}
    limited |= {f"s{i}": decay_entry(f, "p", (0.0, 300.0), 1.0, 0.01, False) for i, f in enumerate(quiet)}
    assert limited["leaky"].outcome == "FAIL"
    assert leaking_segment(ranked(limited), has_limit=True) == "leaky"


@pytest.mark.parametrize(
    "values",
    [
        [2e5, -3e5, 1.0],
        [-0.0, 0.0],
        [np.nan, 5.0, -7.0, np.inf],
        [np.nan, -np.inf, -2.0],
    ],
)
def test_the_finite_part_and_its_largest_magnitude_are_what_the_copies_gave(values: list[float]) -> None:
    array = np.array(values)
    part = finite_part(array)
    assert part.tolist() == array[np.isfinite(array)].tolist()
    assert largest_magnitude(part) == float(np.max(np.abs(array[np.isfinite(array)])))


def test_a_window_with_nothing_to_leave_out_is_not_copied() -> None:
    window = np.arange(5.0)
    assert finite_part(window) is window
