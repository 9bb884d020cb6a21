"""Mastering: subtract the apparent leak rate of a tight master part, and carry its uncertainty.

A tight master tested as the production parts are reads an apparent rate Q_m (the fill's heat
the two sides of a differential test do not shed alike, the head's zero drift, the reference
side's own leak). A production part's rate is then Q = Q_raw − Q_m (leak-physics §1.2, §4.5:
CTS's "zero leak" set-point). Its budget keeps the production fit's terms, with those that
scale with the rate (the volume, the gauge's span) taken on Q, and adds the master's own
standard uncertainty as the term ``master_offset``: the two tests are independent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from rig.analysis.budget import Budget
from rig.analysis.decay import DecayFit

MASTER_TERM = "master_offset"
# The terms proportional to the rate measured: for an offset they scale the corrected rate.
RATE_SCALED_TERMS = frozenset({"volume", "gauge_calibration"})


def subtract_offset(fit: DecayFit, offset_pa_m3_s: float) -> DecayFit:
    """``fit`` with the master's apparent rate taken off its leak rate (its slope moved by Q_m/V)."""
    return replace(fit, line=replace(fit.line, slope=fit.line.slope + offset_pa_m3_s / fit.volume_m3))


def with_offset_term(budget: Budget, uncertainty_pa_m3_s: float) -> Budget:
    """``budget`` with the master's offset as one more standard uncertainty."""
    return Budget({**budget.terms, MASTER_TERM: uncertainty_pa_m3_s}, budget.test_resolution_pa_m3_s)


def offset_uncertainty(terms: Mapping[str, float]) -> float:
    """A master's measured terms as an offset's standard uncertainty: all but the rate-scaled ones."""
    return math.hypot(*(u for name, u in terms.items() if name not in RATE_SCALED_TERMS))
