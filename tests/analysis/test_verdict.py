"""Verdicts from confidence bounds (§4.4) and the additional-time estimate."""

from __future__ import annotations

import numpy as np
import pytest

from rig.analysis import Verdict, decide, fit_decay
from rig.errors import InputError

VOLUME_M3 = 1e-3
NOISE_PA = 0.5


def run(leak_pa_m3_s: float, duration_s: float, seed: int) -> object:
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0)
    p = 2e5 - leak_pa_m3_s / VOLUME_M3 * t + rng.normal(0.0, NOISE_PA, t.size)
    return fit_decay(t, p, volume_m3=VOLUME_M3)


LIMIT = 1e-5


def test_half_the_limit_long_test_passes() -> None:
    d = decide(run(0.5 * LIMIT, 3600.0, 1), LIMIT)  # type: ignore[arg-type]
    assert d.verdict is Verdict.PASS
    assert d.upper_bound_pa_m3_s <= LIMIT and d.additional_time_s is None


def test_twice_the_limit_fails() -> None:
    d = decide(run(2 * LIMIT, 3600.0, 2), LIMIT)  # type: ignore[arg-type]
    assert d.verdict is Verdict.FAIL
    assert d.lower_bound_pa_m3_s > LIMIT


def test_short_test_on_a_small_leak_is_inconclusive_not_pass() -> None:
    # The June 2025 lesson: a short test that sees "almost nothing" proves nothing.
    d = decide(run(0.5 * LIMIT, 60.0, 3), LIMIT)  # type: ignore[arg-type]
    assert d.verdict is Verdict.INCONCLUSIVE
    assert d.additional_time_s is not None and d.additional_time_s > 0.0


def test_the_suggested_extra_time_decides_most_runs() -> None:
    decided = 0
    for seed in range(20):
        short = run(0.5 * LIMIT, 60.0, 100 + seed)
        first = decide(short, LIMIT)  # type: ignore[arg-type]
        if first.verdict is not Verdict.INCONCLUSIVE:
            decided += 1
            continue
        assert first.additional_time_s is not None
        longer = run(0.5 * LIMIT, 60.0 + first.additional_time_s, 200 + seed)
        decided += decide(longer, LIMIT).verdict is not Verdict.INCONCLUSIVE  # type: ignore[arg-type]
    assert decided >= 18


def test_limit_must_be_positive() -> None:
    with pytest.raises(InputError):
        decide(run(LIMIT, 60.0, 4), 0.0)  # type: ignore[arg-type]
