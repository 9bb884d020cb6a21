"""How a trend states its points: the unit the runs agree on, the one limit, points it cannot chart."""

from __future__ import annotations

import math

import pytest

from rig.record.history import HistoryPoint
from rig.report.trend_view import build_trend

SCCM_PA_M3_S = 9.0620000457624e-4 / 0.5  # one sccm (0 °C) as a pV throughput at 20 °C


def point(run_id: str, value: float, *, unit: str = "sccm", limit: float | None = 0.5) -> HistoryPoint:
    """A point whose value and limit are given in sccm and stored, as sources keep them, in Pa·m³/s."""
    return HistoryPoint(
        run_id=run_id,
        started="2026-01-01T10:00:00+0000",
        bench="b",
        value=value * SCCM_PA_M3_S,
        ci95_low=(value - 0.01) * SCCM_PA_M3_S,
        ci95_high=(value + 0.01) * SCCM_PA_M3_S,
        limit=None if limit is None else limit * SCCM_PA_M3_S,
        unit=unit,
        outcome="PASS",
    )


def test_runs_that_agree_on_the_procedures_unit_are_shown_in_it() -> None:
    trend = build_trend("p", "decay", [point("a", 0.2), point("b", 0.3)])
    assert trend.unit == "sccm" and trend.limit == pytest.approx(0.5)
    assert [r.value for r in trend.runs] == pytest.approx([0.2, 0.3])
    assert trend.runs[0].ci95_low == pytest.approx(0.19) and trend.runs[1].ci95_high == pytest.approx(0.31)
    assert trend.limits is not None and trend.limits.center == pytest.approx(0.25)


@pytest.mark.parametrize("other", ["mbar*L/s", "no unit at all"])
def test_runs_in_different_units_or_an_unknown_one_are_shown_in_pa_m3_s(other: str) -> None:
    trend = build_trend("p", "decay", [point("a", 0.2), point("b", 0.3, unit=other)])
    assert trend.unit == "Pa*m**3/s" and trend.shown_unit == "Pa·m³/s"
    assert trend.runs[1].value == pytest.approx(0.3 * SCCM_PA_M3_S)
    alone = build_trend("p", "decay", [point("a", 0.2, unit="no unit at all")])
    assert alone.unit == "Pa*m**3/s"


def test_a_limit_is_stated_only_when_every_run_has_the_same() -> None:
    assert build_trend("p", "d", [point("a", 0.2), point("b", 0.3, limit=0.4)]).limit is None
    assert build_trend("p", "d", [point("a", 0.2), point("b", 0.3, limit=None)]).limit is None
    assert build_trend("p", "d", [point("a", 0.2, limit=None)]).limit is None


def test_a_point_that_is_no_finite_number_is_skipped_not_charted() -> None:
    bad = point("bad", 0.0)
    bad = HistoryPoint(**{**bad.__dict__, "value": math.nan, "ci95_low": math.inf})
    trend = build_trend("p", "d", [point("a", 0.2), bad, point("b", 0.3)])
    assert [r.run_id for r in trend.runs] == ["a", "b"]
    assert trend.skipped == (("bad", "its value is no finite number"),)
    assert trend.to_json()["skipped"] == 1


def test_one_run_has_null_limits_and_says_so_in_one_line() -> None:
    trend = build_trend("p", "decay", [point("a", 0.2)], skipped=[])
    document = trend.to_json()
    assert document["control_limits"] == {"center": None, "lower": None, "upper": None}
    assert document["moving_range_mean"] is None and document["flagged"] == [] and document["skipped"] == 0
    assert trend.lines()[-1] == "no control limits: an individuals chart needs at least two runs"
