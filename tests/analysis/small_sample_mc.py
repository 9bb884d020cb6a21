"""Monte Carlo of the leak-rate intervals at small effective samples: coverage and false PASS.

Each cell fits ``draws`` synthetic decays through the compiled fit (:func:`rig.analysis.fit_decay`)
and the verdict (:func:`rig.analysis.decide`), with the true leak exactly at the limit, so that

* **coverage** is the share of two-sided 95 % intervals holding the true leak (target 0.95), and
* **false PASS** is the share of verdicts PASS (upper one-sided 95 % bound at or below the
  limit) although the leak is at the limit (target at most 0.05).

Noise kinds: ``white``; ``ar1`` (stationary AR(1) of lag-1 correlation ρ); ``shift`` (AR(1) plus a
gauge zero that jumps up by :data:`SHIFT_SIGMAS` of the noise at a uniformly drawn sample, which
biases the decay towards PASS; the engine's level-shift scan then refuses the window, as
:func:`rig.engine.measuring.steady` does, so a refused window is not a PASS). The traces are drawn
all at once per cell (seeded NumPy); only the fits loop.

Reproduce VALIDATION.md's table (20 000 draws a cell, a few minutes on two cores)::

    python -m tests.analysis.small_sample_mc --draws 20000
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from rig.analysis import decide, fit_decay
from rig.analysis.level_shift import find_level_shift
from rig.outcome import Outcome

VOLUME_M3 = 1e-3
LIMIT_PA_M3_S = 1e-4  # the true leak in every cell: exactly at the limit
PERIOD_S = 1.0
NOISE_PA = 0.5
# The jump of the ``shift`` kind, in noise standard deviations: larger than the noise, smaller than
# what the level-shift scan is sure to catch.
SHIFT_SIGMAS = 2.0
CONFIDENCE = 0.95

# (kind, n, ρ): n_eff = n(1 − ρ)/(1 + ρ) from 5 to 600.
GRID: tuple[tuple[str, int, float], ...] = (
    ("white", 10, 0.0),
    ("white", 20, 0.0),
    ("white", 50, 0.0),
    ("white", 600, 0.0),
    ("ar1", 20, 0.3),
    ("ar1", 20, 0.6),
    ("ar1", 50, 0.5),
    ("ar1", 50, 0.8),
    ("ar1", 100, 0.9),
    ("ar1", 200, 0.7),
    ("ar1", 300, 0.9),
    ("ar1", 1000, 0.3),
    ("ar1", 1000, 0.9),
    ("shift", 30, 0.0),
    ("shift", 100, 0.0),
    ("shift", 100, 0.5),
    ("shift", 300, 0.8),
)


@dataclass(frozen=True)
class Cell:
    """One cell's result: shares of ``draws`` fits."""

    kind: str
    n: int
    rho: float
    draws: int
    coverage: float
    false_pass: float
    refused: float  # windows the level-shift scan refused (``shift`` kind; counted as not PASS)

    @property
    def n_eff(self) -> float:
        """The nominal effective sample n(1 − ρ)/(1 + ρ)."""
        return self.n * (1.0 - self.rho) / (1.0 + self.rho)


def ar1(rng: np.random.Generator, draws: int, n: int, rho: float, sigma: float) -> np.ndarray:
    """``draws`` stationary AR(1) series of ``n`` samples with marginal deviation ``sigma``."""
    e = rng.normal(0.0, sigma, (draws, n))
    e[:, 1:] *= math.sqrt(1.0 - rho * rho)  # the first sample is already stationary
    return np.asarray(lfilter([1.0], [1.0, -rho], e, axis=1))


def traces(kind: str, n: int, rho: float, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Time stamps and ``draws`` pressure traces of a leak at the limit."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + PERIOD_S * np.arange(n)
    slope = -LIMIT_PA_M3_S / VOLUME_M3
    p = 1e5 + slope * (t - t[0]) + ar1(rng, draws, n, rho, NOISE_PA)
    if kind == "shift":
        at = rng.integers(1, n, draws)
        p += SHIFT_SIGMAS * NOISE_PA * (np.arange(n)[None, :] >= at[:, None])
    return t, p


def run_cell(kind: str, n: int, rho: float, draws: int, seed: int = 0) -> Cell:
    """Fit ``draws`` traces of one cell and count coverage, false PASS and refusals."""
    t, p = traces(kind, n, rho, draws, seed + 7919 * n + int(1000 * rho))
    covered = passed = refused = 0
    for row in p:
        fit = fit_decay(t, row, volume_m3=VOLUME_M3)
        low, high = fit.interval(CONFIDENCE)
        covered += low <= LIMIT_PA_M3_S <= high
        if decide(fit, LIMIT_PA_M3_S, CONFIDENCE).verdict is Outcome.PASS:
            if kind == "shift" and find_level_shift(t, row) is not None:
                refused += 1
            else:
                passed += 1
    return Cell(kind, n, rho, draws, covered / draws, passed / draws, refused / draws)


def binomial_tolerance(p: float, draws: int, z: float = 3.0) -> float:
    """``z`` binomial standard errors of a share ``p`` estimated from ``draws`` draws."""
    return z * math.sqrt(p * (1.0 - p) / draws)


def table(cells: list[Cell]) -> str:
    """A Markdown table of the cells."""
    lines = [
        "| noise | n | ρ | n_eff | coverage (95 % two-sided) | false PASS at the limit | refused by the scan |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        refused = f"{c.refused:.4f}" if c.kind == "shift" else "–"
        lines.append(
            f"| {c.kind} | {c.n} | {c.rho:.1f} | {c.n_eff:.1f} | {c.coverage:.4f} | {c.false_pass:.4f} | {refused} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the table for :data:`GRID`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    start = time.perf_counter()
    cells = [run_cell(kind, n, rho, args.draws, args.seed) for kind, n, rho in GRID]
    print(table(cells))
    tol = binomial_tolerance(0.05, args.draws)
    print(f"\n{args.draws} draws a cell (3 binomial SE at 0.05: ±{tol:.4f}); {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
