"""Exact (Clopper–Pearson) confidence intervals for a proportion: k successes in n trials.

The interval holds every p whose binomial tails leave k at least (1 − confidence)/2 likely on
each side; its ends are quantiles of beta distributions:

    low  = Beta(k, n − k + 1).ppf(α/2)      (0 when k = 0)
    high = Beta(k + 1, n − k).ppf(1 − α/2)  (1 when k = n)

Conservative (the coverage is at least the confidence for every p), which is what a method's
qualification asks: "≥ 95 % detection" is shown only when the low end clears it.
"""

from __future__ import annotations

from scipy.stats import beta


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval of the proportion ``successes``/``trials`` (ValueError if impossible)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes in {trials} trials is not a proportion")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    alpha = 1.0 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2.0, successes, trials - successes + 1))
    high = (
        1.0 if successes == trials else float(beta.ppf(1.0 - alpha / 2.0, successes + 1, trials - successes))
    )
    return low, high
