"""Recorded values as a certificate writes them: a finite number or None, text or "not recorded".

The run itself is read by :class:`rig.record.run_record.RunRecord`, tolerant of what older
records lack; what it could not read, a certificate states as :data:`NOT_RECORDED`, never as a
guess.
"""

from __future__ import annotations

import math
from typing import Any

NOT_RECORDED = "not recorded"


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN, but older records wrote it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_text(value: Any) -> str:
    """``value`` as the certificate prints it: :data:`NOT_RECORDED` when absent or empty."""
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
