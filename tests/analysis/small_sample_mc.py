"""Monte Carlo of the leak-rate intervals at small effective samples: coverage and false PASS.

Each cell fits ``draws`` synthetic decays through the compiled fit (:func:`rig.analysis.fit_decay`)
and the verdict (:func:`rig.analysis.decide`), with the true leak exactly at the limit, so that

* **coverage** is the share of two-sided 95 % intervals holding the true leak (target 0.95), and
* **false PASS** is the share of verdicts PASS (upper one-sided 95 % bound at or below the
  limit) although the leak is at the limit (target at most 0.05).

Noise: ``white`` or ``ar1`` (stationary AR(1) of lag-1 correlation ρ), optionally with a gauge zero
that jumps up by some noise deviations at a uniformly drawn sample (which biases the decay towards
PASS). With ``scan`` the engine's level-shift scan also looks at every window, as
:func:`rig.engine.measuring.steady` does: a window it refuses gives no verdict, so no PASS. The
traces are drawn all at once per cell (seeded NumPy); only the fits loop.

Reproduce VALIDATION.md's table (20 000 draws a cell, about five minutes on two cores)::

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
CONFIDENCE = 0.95

# (noise, n, ρ, jump in noise deviations): n_eff = n(1 − ρ)/(1 + ρ) from 5 to 600.
GRID: tuple[tuple[str, int, float, float], ...] = (
    ("white", 10, 0.0, 0.0),
    ("white", 20, 0.0, 0.0),
    ("white", 50, 0.0, 0.0),
    ("white", 600, 0.0, 0.0),
    ("ar1", 20, 0.3, 0.0),
    ("ar1", 20, 0.6, 0.0),
    ("ar1", 50, 0.5, 0.0),
    ("ar1", 50, 0.8, 0.0),
    ("ar1", 100, 0.9, 0.0),
    ("ar1", 200, 0.7, 0.0),
    ("ar1", 300, 0.9, 0.0),
    ("ar1", 1000, 0.3, 0.0),
    ("ar1", 1000, 0.9, 0.0),
    ("white", 30, 0.0, 2.0),
    ("white", 100, 0.0, 1.0),
    ("white", 100, 0.0, 2.0),
    ("white", 100, 0.0, 4.0),
    ("white", 100, 0.0, 6.0),
    ("ar1", 100, 0.5, 2.0),
    ("ar1", 300, 0.8, 2.0),
)


@dataclass(frozen=True)
class Cell:
    """One cell's result: shares of ``draws`` fits."""

    noise: str
    n: int
    rho: float
    jump_sigmas: float
    draws: int
    coverage: float
    false_pass: float  # PASS from the fit's bound alone
    false_pass_scanned: float | None  # PASS that the level-shift scan does not refuse (None: not scanned)
    refused: float | None  # windows the scan refuses, PASS or not (None: not scanned)

    @property
    def n_eff(self) -> float:
        """The nominal effective sample n(1 − ρ)/(1 + ρ)."""
        return self.n * (1.0 - self.rho) / (1.0 + self.rho)


def ar1(rng: np.random.Generator, draws: int, n: int, rho: float, sigma: float) -> np.ndarray:
    """``draws`` stationary AR(1) series of ``n`` samples with marginal deviation ``sigma``."""
    e = rng.normal(0.0, sigma, (draws, n))
    e[:, 1:] *= math.sqrt(1.0 - rho * rho)  # the first sample is already stationary
    return np.asarray(lfilter([1.0], [1.0, -rho], e, axis=1))


def traces(n: int, rho: float, jump_sigmas: float, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Time stamps and ``draws`` pressure traces of a leak at the limit.

    A jump goes up (the way that hides a leak) at a uniformly drawn sample.
    """
    rng = np.random.default_rng(seed)
    t = 1.7e9 + PERIOD_S * np.arange(n)
    slope = -LIMIT_PA_M3_S / VOLUME_M3
    p = 1e5 + slope * (t - t[0]) + ar1(rng, draws, n, rho, NOISE_PA)
    if jump_sigmas:
        at = rng.integers(1, n, draws)
        p += jump_sigmas * NOISE_PA * (np.arange(n)[None, :] >= at[:, None])
    return t, p


def run_cell(
    noise: str, n: int, rho: float, draws: int, seed: int = 0, jump_sigmas: float = 0.0, scan: bool = False
) -> Cell:
    """Fit ``draws`` traces of one cell; count coverage, false PASS and (``scan``) the scan's refusals."""
    t, p = traces(n, rho, jump_sigmas, draws, seed + 7919 * n + int(1000 * rho) + int(100 * jump_sigmas))
    covered = passed = passed_scanned = refused = 0
    for row in p:
        fit = fit_decay(t, row, volume_m3=VOLUME_M3)
        low, high = fit.interval(CONFIDENCE)
        covered += low <= LIMIT_PA_M3_S <= high
        is_pass = decide(fit, LIMIT_PA_M3_S, CONFIDENCE).verdict is Outcome.PASS
        passed += is_pass
        if scan:
            # As rig.engine.measuring.steady does: a window with a jump gives no verdict.
            jumped = find_level_shift(t, row) is not None
            refused += jumped
            passed_scanned += is_pass and not jumped
    scanned = (passed_scanned / draws, refused / draws) if scan else (None, None)
    return Cell(noise, n, rho, jump_sigmas, draws, covered / draws, passed / draws, *scanned)


def binomial_tolerance(p: float, draws: int, z: float = 3.0) -> float:
    """``z`` binomial standard errors of a share ``p`` estimated from ``draws`` draws."""
    return z * math.sqrt(p * (1.0 - p) / draws)


def table(cells: list[Cell]) -> str:
    """A Markdown table of the cells."""
    lines = [
        "| noise | n | ρ | n_eff | jump/σ | coverage (95 %) | false PASS | after the scan | scan refuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        scanned = "– | –"
        if c.false_pass_scanned is not None and c.refused is not None:
            scanned = f"{c.false_pass_scanned:.4f} | {c.refused:.4f}"
        head = f"| {c.noise} | {c.n} | {c.rho:.1f} | {c.n_eff:.1f} | {c.jump_sigmas:g}"
        lines.append(f"{head} | {c.coverage:.4f} | {c.false_pass:.4f} | {scanned} |")
    return "\n".join(lines)


def main() -> None:
    """Print the table for :data:`GRID`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    start = time.perf_counter()
    cells = [run_cell(noise, n, rho, args.draws, args.seed, jump, scan=True) for noise, n, rho, jump in GRID]
    print(table(cells))
    tol = binomial_tolerance(0.05, args.draws)
    took_s = time.perf_counter() - start
    print(f"\n{args.draws} draws a cell (3 binomial SE at 0.05: ±{tol:.4f}); {took_s:.0f} s")


if __name__ == "__main__":
    main()
