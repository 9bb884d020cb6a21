"""Exact binomial intervals against published values, and their edges."""

from __future__ import annotations

import pytest

from rig.analysis.clopper_pearson import clopper_pearson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.3085),
        (10, 10, 0.6915, 1.0),
        (5, 10, 0.1871, 0.8129),
        (1, 20, 0.0013, 0.2487),
        (19, 20, 0.7513, 0.9987),
    ],
)
def test_known_intervals(k: int, n: int, low: float, high: float) -> None:
    got = clopper_pearson(k, n)
    assert got == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_edges_are_exact_and_the_interval_holds_the_estimate() -> None:
    assert clopper_pearson(0, 1) == (0.0, pytest.approx(0.975))
    assert clopper_pearson(1, 1) == (pytest.approx(0.025), 1.0)
    for n in (1, 7, 200):
        for k in range(n + 1):
            low, high = clopper_pearson(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, 0)])
def test_impossible_proportions_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="not a proportion"):
        clopper_pearson(k, n)
