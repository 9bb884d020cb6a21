"""Control limits of an individuals chart (Shewhart X / moving-range chart) for one value per run.

One measurement per run gives subgroups of one, so the process spread is estimated from the
moving ranges ``|x_i − x_{i−1}|`` of consecutive runs, not from a within-subgroup range:

* center line ``x̄`` = the mean of the values;
* ``MR̄`` = the mean of the ``n − 1`` moving ranges;
* control limits ``x̄ ± E2·MR̄`` with ``E2 = 3/d2``, where ``d2 = 1.128`` is the mean range of
  two independent standard normal values (the bias constant of ranges of subgroups of two), so
  ``MR̄/d2`` estimates the standard deviation and the limits sit three of them from the center.
  ``E2`` is taken as the tables print it, 2.66 (NIST/SEMATECH e-Handbook of Statistical Methods,
  6.3.2.2 "Individuals control charts"; Montgomery, Introduction to Statistical Quality
  Control, ch. 6, "control chart for individual measurements").

A value strictly beyond a limit is out of control; one exactly on a limit is not, so constant
values (zero-width limits) flag nothing. Fewer than two values have no moving range and so no
limits: :func:`individuals_limits` returns None, and nothing is flagged.

Plain numbers in and out (finite floats): this module knows nothing of runs or records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

D2 = 1.128  # E[range] of two independent N(0, 1) values: the bias constant d2 for n = 2
E2 = 2.66  # 3/d2 (= 2.6596), as the control-chart tables print it
MIN_VALUES = 2  # the fewest values that have a moving range, hence limits


@dataclass(frozen=True)
class ControlLimits:
    """An individuals chart's center line, its lower and upper control limits and the mean moving range."""

    center: float
    lower: float
    upper: float
    moving_range_mean: float

    def outside(self, value: float) -> bool:
        """Whether ``value`` lies strictly beyond a control limit (out of control)."""
        return value > self.upper or value < self.lower


def individuals_limits(values: Sequence[float]) -> ControlLimits | None:
    """The individuals-chart limits of ``values`` (in run order); None for fewer than two values.

    Raises ValueError for a value that is not a finite number (NaN would silently flag nothing).
    """
    if any(not math.isfinite(v) for v in values):
        raise ValueError("control limits need finite values")
    if len(values) < MIN_VALUES:
        return None
    # The mean as the first value plus the mean offset from it: constant values then have their
    # value as center exactly (fsum/n may miss it by an ulp, and a zero-width chart would flag all).
    first = values[0]
    center = first + math.fsum(v - first for v in values) / len(values)
    moving_range_mean = math.fsum(abs(b - a) for a, b in itertools.pairwise(values)) / (len(values) - 1)
    half_width = E2 * moving_range_mean
    return ControlLimits(center, center - half_width, center + half_width, moving_range_mean)


def out_of_control(values: Sequence[float], limits: ControlLimits | None) -> list[bool]:
    """For each of ``values``, whether it lies beyond ``limits`` (all False without limits)."""
    if limits is None:
        return [False] * len(values)
    return [limits.outside(v) for v in values]
