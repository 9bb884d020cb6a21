"""The ``zero_drift`` budget term: V·(rate bound + tempco·ambient rate)/√3, and E2930 counts it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.analysis.budget import E2930_FRACTION, TypeB, planned_test, type_b_terms

V = 1e-3  # m³, the 1 L article


@settings(max_examples=50, deadline=None)
@given(
    drift=st.floats(0.0, 1.0),
    tempco=st.floats(0.0, 50.0),
    ambient=st.floats(0.0, 1e-3),
    compensated=st.booleans(),
)
def test_the_term_is_the_apparent_rate_of_the_bound_rectangular(
    drift: float, tempco: float, ambient: float, compensated: bool
) -> None:
    type_b = TypeB(
        resolution_pa=1.0,
        zero_drift_pa_s=drift,
        zero_temperature_coefficient_pa_k=tempco,
        ambient_drift_k_s=ambient,
    )
    terms, resolution = type_b_terms(5e-4, V, 600.0, 2e5, 293.15, type_b, compensated)
    apparent = V * (drift + tempco * ambient)
    assert terms["zero_drift"] == pytest.approx(apparent / math.sqrt(3.0), rel=1e-12, abs=1e-300)
    without, step = type_b_terms(5e-4, V, 600.0, 2e5, 293.15, TypeB(resolution_pa=1.0), compensated)
    assert without["zero_drift"] == 0.0
    # The drift's apparent rate joins the resolution in quadrature.
    assert resolution == pytest.approx(math.hypot(step, apparent), rel=1e-12)


def test_a_drift_that_fakes_a_tenth_of_the_limit_cannot_certify() -> None:
    """0.5 sccm is 9.06e-4 Pa·m³/s: a zero drifting 0.1 Pa/s fakes 1e-4 on 1 L, more than a tenth."""
    limit = 9.062e-4
    quiet = TypeB(resolution_pa=0.01)
    drifting = TypeB(resolution_pa=0.01, zero_drift_pa_s=0.1)
    for type_b, met in ((quiet, True), (drifting, False)):
        test = planned_test(
            600.0,
            rate_pa_m3_s=limit / 2.0,
            volume_m3=V,
            sample_period_s=1.0,
            noise_pa=0.3,
            pressure_pa=2e5,
            temperature_k=293.15,
            type_b=type_b,
            compensated=False,
        )
        assert (test.test_resolution_pa_m3_s <= E2930_FRACTION * limit) is met
        assert "zero_drift" in test.terms


def test_the_zero_rate_adds_the_tempco_at_the_ambient_rate() -> None:
    assert TypeB(
        zero_drift_pa_s=1.0 / 3600.0, zero_temperature_coefficient_pa_k=10.0, ambient_drift_k_s=0.5 / 3600.0
    ).zero_rate_pa_s == pytest.approx(6.0 / 3600.0)
