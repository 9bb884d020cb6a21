"""``fit_decay`` against the memory floor and SciPy, interleaved in one process (issue 19).

    OPENBLAS_NUM_THREADS=1 python -m tests.benchmarks.fit_speed [--rounds 11] [--samples 10000000]

Every round times, once each and in a rotating order, on the same arrays (epoch time stamps at
10 Hz, ~1e5 Pa with a −1e-6 Pa/s slope and 0.01 Pa of noise, a gas temperature near 293.15 K):
``np.dot(t, p)`` (the floor: one read of both arrays, one multiply-add per sample), ``fit_decay(t, p)``,
``fit_decay(t, p, T)``, ``scipy.stats.linregress(t, p)`` and NumPy's ``p·T_ref/T`` then ``linregress``.
The ratios are taken within each round, so that whatever else the machine does lands on both sides
of each comparison alike; the table gives their median and their spread (min–max) over the rounds.
Then a 1e3-sample ``fit_decay`` (a live estimate, a planner's trial): the best of several batches of
calls, in µs per call, against the compiled pass alone (``rig._linfit.fit_line``); and ns per sample
of the compiled fits and of the floor from 1e4 samples (in cache) to 1e7 (from memory).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the floor on one thread, as the fit runs

import statistics
import time
import timeit
from collections.abc import Callable

import numpy as np
from scipy import stats

from rig import _linfit
from rig.analysis import fit_decay

T_REF_K = 293.15
Timed = dict[str, Callable[[], object]]


def series(n: int, seed: int = 2019) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The benchmark arrays (as tests/benchmarks/conftest.py makes them)."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.arange(n) * 0.1
    p = 1.0e5 - 1e-6 * (t - t[0]) + rng.normal(0.0, 0.01, n)
    temperature = T_REF_K + rng.normal(0.0, 0.001, n)
    return t, p, temperature


def contenders(t: np.ndarray, p: np.ndarray, temperature: np.ndarray) -> Timed:
    """What is timed, by name."""
    return {
        "floor": lambda: np.dot(t, p),
        "fit_decay": lambda: fit_decay(t, p),
        "fit_decay_T": lambda: fit_decay(t, p, temperature),
        "linregress": lambda: stats.linregress(t, p),
        "linregress_T": lambda: stats.linregress(t, p * T_REF_K / temperature),
    }


def rounds(timed: Timed, count: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, one call each per round, the order rotating."""
    names = list(timed)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(count):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            timed[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


# (label, numerator, denominator, target, how the target reads)
RATIOS = [
    ("`fit_decay` / floor", "fit_decay", "floor", 1.5, "≤"),
    ("`linregress` / `fit_decay`", "linregress", "fit_decay", 10.0, "≥"),
    ("compensated `fit_decay` / floor", "fit_decay_T", "floor", 2.0, "≤"),
    ("NumPy p/T + `linregress` / compensated `fit_decay`", "linregress_T", "fit_decay_T", None, ""),
]


def ratio_rows(seconds: dict[str, list[float]]) -> list[str]:
    """Markdown rows: each ratio's median and min–max over the rounds, and whether it meets its target."""
    rows = []
    for label, num, den, target, sense in RATIOS:
        per_round = [a / b for a, b in zip(seconds[num], seconds[den], strict=True)]
        median = statistics.median(per_round)
        met = ""
        if target is not None:
            ok = median <= target if sense == "≤" else median >= target
            met = "yes" if ok else "**no**"
        goal = f"{sense} {target:g}" if target is not None else "—"
        spread = f"{min(per_round):.2f}–{max(per_round):.2f}"
        rows.append(f"| {label} | {median:.2f} | {spread} | {goal} | {met} |")
    return rows


def small_call_us(n: int = 1000, batches: int = 7, calls: int = 20_000) -> dict[str, float]:
    """Best of ``batches`` batches of ``calls`` calls, µs per call, on ``n`` samples."""
    t, p, _ = series(n, seed=7)
    timed = {"fit_decay": lambda: fit_decay(t, p), "compiled pass": lambda: _linfit.fit_line(t, p)}
    best = {name: min(timeit.repeat(f, number=calls, repeat=batches)) for name, f in timed.items()}
    return {name: seconds / calls * 1e6 for name, seconds in best.items()}


def per_sample_ns(sizes: tuple[int, ...] = (10**4, 10**5, 10**6, 10**7)) -> list[str]:
    """Markdown rows: ns per sample of the compiled fits and of the floor, in cache and out of it."""
    rows = []
    for n in sizes:
        t, p, temperature = series(n)
        reps = max(1, 10**7 // n)
        timed = {
            "fit": lambda t=t, p=p: _linfit.fit_line(t, p),
            "compensated": lambda t=t, p=p, k=temperature: _linfit.fit_line_compensated(t, p, k, T_REF_K),
            "floor": lambda t=t, p=p: np.dot(t, p),
        }
        best = {name: min(timeit.repeat(f, number=reps, repeat=7)) for name, f in timed.items()}
        ns = {name: seconds / reps / n * 1e9 for name, seconds in best.items()}
        rows.append(f"| {n:.0e} | {ns['fit']:.2f} | {ns['compensated']:.2f} | {ns['floor']:.2f} |")
    return rows


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--samples", type=int, default=10_000_000)
    args = parser.parse_args()
    t, p, temperature = series(args.samples)
    seconds = rounds(contenders(t, p, temperature), args.rounds)
    threads = os.environ["OPENBLAS_NUM_THREADS"]
    print(f"{args.samples:.0e} samples, {args.rounds} rounds, OPENBLAS_NUM_THREADS={threads}")
    print("\n| contender | median ms | min–max ms |\n|---|---:|---:|")
    for name, s in seconds.items():
        print(f"| {name} | {statistics.median(s) * 1e3:.2f} | {min(s) * 1e3:.2f}–{max(s) * 1e3:.2f} |")
    print("\n| ratio (per round) | median | min–max | target | met |\n|---|---:|---:|---|---|")
    print("\n".join(ratio_rows(seconds)))
    small = small_call_us()
    print("\n| 1e3 samples | µs per call (best batch) | target | met |\n|---|---:|---|---|")
    for name, us in small.items():
        goal, met = ("≤ 3", "yes" if us <= 3.0 else "**no**") if name == "fit_decay" else ("—", "")
        print(f"| {name} | {us:.2f} | {goal} | {met} |")
    print("\n| samples | fit ns/sample | compensated ns/sample | floor ns/sample |\n|---|---:|---:|---:|")
    print("\n".join(per_sample_ns()))


if __name__ == "__main__":
    main()
