"""The bounds a procedure must keep, so that validation promises only what a run can do.

Every figure here is checked arithmetically over the step tree (:mod:`rig.procedure.plan`),
before anything runs; the reasons are in README.md ("Bounds"):

* **at most 100 000 executed steps** (repeats multiplied). Each step is logged, shown and
  timed; the longest shipped procedure runs 17, and a cycling test of a 5-step
  fill-decay-vent repeated 10 000 times runs 50 000. More is a typo (one zero too many), or
  a procedure that should be a campaign of runs.
* **at most 90 days planned**: the sum of every step's longest duration (its timeout, its
  ``max``, its duration), repeats multiplied. Calibrations run for a year and a bench's
  state drifts over seasons; a record longer than a quarter is better split into runs, and
  ``duration: 1e9 s`` (31 years) is a mistake, not a test.
* **at most 50 million samples** (planned duration / sample period): some 5 GB of
  ``samples.csv`` for a bench of eight channels (a row is about 100 bytes), and as many
  rounds of transactions with every instrument. With a 1 s period the 90 days (7.8 million
  samples) bind first; with 10 ms, 5.8 days.
* **a sample period from 10 ms to 1 h**: one sample is a transaction with every instrument,
  and a serial gauge's reply alone takes about 10 ms at 9600 baud, so a shorter period
  could not be kept; the interlocks are checked on each sample, so a longer one would leave
  the bench unwatched for longer than a fill or a vent takes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rig.procedure.plan import Plan

if TYPE_CHECKING:
    from rig.steps import Step

MAX_EXECUTED_STEPS = 100_000
MAX_PLANNED_S = 90 * 86400.0
MAX_SAMPLES = 50_000_000
MIN_SAMPLE_PERIOD_S = 0.01
MAX_SAMPLE_PERIOD_S = 3600.0


def sample_period_problem(period_s: float, written: str) -> str | None:
    """Why ``period_s`` (as ``written``) cannot be a sample period (None: it can)."""
    if MIN_SAMPLE_PERIOD_S <= period_s <= MAX_SAMPLE_PERIOD_S:
        return None
    return (
        f"sample_period {written!r} is outside 10 ms to 1 h: each sample reads every instrument (a "
        "serial gauge takes ~10 ms to answer) and checks the interlocks, which must not go unchecked "
        "for an hour or more"
    )


def excess(steps: Sequence[Step], response_s: float, period_s: float, what: str) -> str | None:
    """Why ``steps`` (``what`` names them: "this repeat", "the procedure") exceed a bound, or None.

    ``response_s`` is the bench's valve response time, ``period_s`` the sample period.
    """
    plan = Plan(steps, response_s)
    # Say how a figure far beyond anything written comes about.
    repeated = len(steps) != 1 or steps[0].is_container()
    how = " (repeats multiplied)" if repeated else ""
    if plan.count > MAX_EXECUTED_STEPS:
        return (
            f"{what} executes {count_text(plan.count)} steps{how}: a procedure may execute at most "
            f"{count_text(MAX_EXECUTED_STEPS)}"
        )
    if plan.max_s > MAX_PLANNED_S:
        longest = "the longest each step can take, repeats multiplied" if repeated else "at the longest"
        return (
            f"{what} may take {duration_text(plan.max_s)} ({longest}): a procedure may plan at most "
            f"{duration_text(MAX_PLANNED_S)}"
        )
    samples = plan.max_s / period_s
    if samples > MAX_SAMPLES:
        return (
            f"{what} may record {count_text(samples)} samples ({duration_text(plan.max_s)} every "
            f"{duration_text(period_s)}): a procedure may record at most {count_text(MAX_SAMPLES)}; "
            "sample less often or test for less long"
        )
    return None


def count_text(count: float) -> str:
    """A count as people read it: ``100 000``, or ``1e+24`` when too long to group."""
    if count < 1e12:
        return f"{round(count):,}".replace(",", " ")
    return f"{float(count):.3g}" if math.isfinite(float(count)) else "more than 1e308"


def duration_text(seconds: float) -> str:
    """A duration in the unit that reads best: ``10 ms``, ``15 min``, ``90 days``, ``3.2e+07 years``."""
    if not math.isfinite(seconds):
        return "forever"
    for unit, size in (("years", 365.25 * 86400.0), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:.4g} s" if seconds >= 1.0 else f"{seconds * 1e3:.4g} ms"
