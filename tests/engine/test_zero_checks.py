"""Two zero checks amend the measurements between them: a widened term, or no verdict (pure, no run)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.cli import main
from rig.engine.zero_checks import ZeroReading, amended, between, observed_drift
from rig.outcome import Outcome
from rig.record.measurement import E2930, Measurement, UncertaintyBudget
from tests.engine import sim_runs

V = 1e-3
LIMIT = 9.062e-4
DECLARED = 6.0 / 3600.0  # Pa/s, the mockup's p_article


def decay(value: float, outcome: Outcome, *, term: float = V * DECLARED / math.sqrt(3.0)) -> Measurement:
    """A 1 L decay measured over [100, 400] s with a standard uncertainty of 2e-5 Pa·m³/s."""
    terms = {"fit": 1e-5, "resolution": math.sqrt(4e-10 - 1e-10 - term**2), "zero_drift": term}
    stderr = math.sqrt(sum(u * u for u in terms.values()))
    return Measurement(
        value_pa_m3_s=value,
        stderr_pa_m3_s=stderr,
        stderr_type_b_pa_m3_s=math.hypot(terms["resolution"], term),
        ucl95_pa_m3_s=value + 1.65 * stderr,
        lcl95_pa_m3_s=value - 1.65 * stderr,
        channel="p_article",
        window_s=(100.0, 400.0),
        uncertainty=UncertaintyBudget(terms, stderr),
        limit_pa_m3_s=LIMIT,
        outcome=outcome,
        e2930=E2930(3e-5, LIMIT / 10.0, True),
    )


def check(t_s: float, offset_pa: float | None, u_pa: float = 0.05) -> ZeroReading:
    return ZeroReading("p_article", "vacuum", t_s, offset_pa, u_pa, 20)


def test_a_drift_within_the_declared_stability_leaves_the_measurement_as_it_was() -> None:
    first, second = check(50.0, 0.0), check(450.0, 0.1)  # 0.9 Pa/h
    entry = decay(4.5e-4, Outcome.PASS)
    assert between(entry, first, second)
    assert amended(entry, observed_drift(first, second), first, second, V, DECLARED) == entry


def test_a_drift_beyond_it_refuses_the_verdict_and_names_the_drift() -> None:
    first, second = check(50.0, 0.0), check(450.0, 5.0)  # 45 Pa/h, ± 0.6 Pa/h at k = 2
    entry = amended(decay(4.5e-4, Outcome.PASS), observed_drift(first, second), first, second, V, DECLARED)
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None and entry.refusal.startswith("zero drift: p_article's zero moved +5 Pa")
    assert "beyond its declared stability of 6 Pa/h" in entry.refusal


def test_a_drift_not_surely_beyond_widens_the_term_and_takes_the_verdict_again() -> None:
    """7 Pa/h ± 76 Pa/h (k = 2): not beyond 6 Pa/h, but the checks allow up to 83 Pa/h."""
    first, second = check(50.0, 0.0, 3.0), check(450.0, 0.78, 3.0)
    drift = observed_drift(first, second)
    assert drift is not None and not drift.beyond(DECLARED)
    entry = decay(8.7e-4, Outcome.PASS)
    assert entry.ucl95_pa_m3_s is not None and entry.ucl95_pa_m3_s <= LIMIT
    widened = amended(entry, drift, first, second, V, DECLARED)
    assert widened.uncertainty is not None
    assert widened.uncertainty.terms["zero_drift"] == pytest.approx(V * drift.bound_pa_s / math.sqrt(3.0))
    assert widened.stderr_pa_m3_s is not None and widened.stderr_pa_m3_s > (entry.stderr_pa_m3_s or 0.0)
    assert widened.ucl95_pa_m3_s is not None and widened.ucl95_pa_m3_s > LIMIT
    assert widened.outcome is Outcome.INCONCLUSIVE  # the wider bound reaches over the limit


def test_a_check_that_read_nothing_bounds_nothing() -> None:
    first, second = check(50.0, 0.0), check(450.0, None, math.inf)
    entry = amended(decay(2e-3, Outcome.FAIL), observed_drift(first, second), first, second, V, DECLARED)
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None and "read nothing usable" in entry.refusal


def test_a_refusal_already_there_is_kept_first() -> None:
    first, second = check(50.0, 0.0), check(450.0, 5.0)
    before = decay(4.5e-4, Outcome.PASS).withdrawn("not steady: a jump")
    entry = amended(before, observed_drift(first, second), first, second, V, DECLARED)
    assert entry.refusal is not None and entry.refusal.startswith("not steady: a jump; zero drift:")


def test_only_measurements_on_the_gauge_between_the_checks_are_amended() -> None:
    entry = decay(4.5e-4, Outcome.PASS)
    assert not between(entry, check(150.0, 0.0), check(450.0, 0.0))
    assert not between(entry, check(50.0, 0.0), check(350.0, 0.0))
    other = ZeroReading("p_chamber", "vacuum", 50.0, 0.0, 0.05, 20)
    assert not between(entry, other, ZeroReading("p_chamber", "vacuum", 450.0, 0.0, 0.05, 20))


def test_a_zero_check_against_vacuum_needs_a_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "zero.yaml"
    path.write_text(
        "procedure: zero\nversion: 1\n"
        "main:\n"
        "  - zero_check: {channel: p_article, against: vacuum}\n"
        "  - zero_check: {channel: t_article, against: atmosphere, duration: 0.5 s}\n"
    )
    assert main(["validate", str(path), "--bench", str(sim_runs.MOCKUP)]) == 2
    problems = [line.removeprefix(f"{path}:") for line in capsys.readouterr().err.strip().splitlines()]
    assert problems[0].startswith("4:47: a zero check against vacuum needs what bounds the true pressure")
    assert problems[1] == "5:27: 't_article' measures temperature, not pressure"
    assert problems[2] == "5:69: a mean needs two samples at least: 2 s"
