"""A gross leak: a filled volume whose pressure falls below anything a tight one can come to.

A leak-test instrument's settle phase faults a part whose pressure falls below the test
pressure minus its tolerance (a gross leak): a hole so large that the article empties while
it settles, after which the decay measures a flat trace at ambient and would pass. Here the
fill closes its supply as soon as the gauge is within tolerance, so the lowest test pressure
is ``to − tolerance``, and the compression heat of the fill then leaves the gas: a tight
article settles *below* that. How far below is bounded: a rigid volume filled adiabatically
from ``p0`` (the gas entering at room temperature) to ``p`` holds, once it has cooled back to
room temperature, ``p0 + (p − p0)/γ`` (the energy balance of a charged tank, γ the test gas's
ratio of heat capacities). Any exchange of heat during the fill only leaves it higher, so no
tight article comes below

    floor = p0 + (to − tolerance − p0) / γ

and a reading below it is a gross leak: the run ends FAIL, naming the reading and the floor.
γ is the procedure's ``gas:`` (air: 1.4); a gas this module does not know is taken as
monatomic, 5/3, the largest of any ideal gas and so the lowest floor (never a tight article
failed, at the cost of missing a gross leak between the two).
Only a fill *up* from where the volume was has a floor; a pump-down (where a gross leak is a
rise) and a volume no step of the run has brought anywhere have none.
"""

from __future__ import annotations

import math

import numpy as np

from rig.engine.abort import Abort
from rig.outcome import Outcome
from rig.steps.base import Brought
from rig.steps.context import StepContext

# The largest ratio of heat capacities of an ideal gas (monatomic: 5/3): the most heat a fill can
# put in the gas, so the lowest pressure a tight volume cools to, for a gas named nowhere below.
GAMMA_MAX = 5.0 / 3.0
# The ratio of heat capacities of the usual test gases near room temperature, by the names a
# procedure's ``gas:`` gives them (lower case; a tracer mixture is mostly its carrier).
GAMMA = {
    "air": 1.40,
    "nitrogen": 1.40,
    "n2": 1.40,
    "oxygen": 1.40,
    "o2": 1.40,
    "hydrogen": 1.41,
    "h2": 1.41,
    "forming gas": 1.40,
    "helium": GAMMA_MAX,
    "he": GAMMA_MAX,
    "argon": GAMMA_MAX,
    "ar": GAMMA_MAX,
}


def heat_capacity_ratio(gas: str) -> float:
    """γ of the test gas ``gas`` (5/3, the largest, for a gas not in :data:`GAMMA`)."""
    return GAMMA.get(gas.strip().lower(), GAMMA_MAX)


def gross_leak_floor(brought: Brought | None) -> float | None:
    """The pressure no tight volume comes below after ``brought`` (None: it sets no floor)."""
    if brought is None or brought.from_pa is None:
        return None
    start, lowest = brought.from_pa, brought.level.pressure_pa - brought.level.margin_pa
    if not lowest > start:
        return None  # not a fill up from where the volume was (a pump-down, a fill to where it is)
    return start + (lowest - start) / heat_capacity_ratio(brought.gas)


def floor_of(ctx: StepContext, channel: str) -> tuple[float, Brought] | None:
    """The gross-leak floor of ``channel``'s volume in this run, and what set it (None: there is none)."""
    volume = ctx.bench.channels[channel].volume
    if volume is None or ctx.bench.channels[channel].measures != "pressure":
        return None
    brought = ctx.brought(volume)
    floor = gross_leak_floor(brought)
    return None if floor is None or brought is None else (floor, brought)


def check_gross_leak(
    ctx: StepContext, channel: str, pressure_pa: float | None, floor: tuple[float, Brought], during: str
) -> None:
    """End the run FAIL if ``pressure_pa``, read on ``channel`` during ``during``, is below the floor."""
    if pressure_pa is None or math.isnan(pressure_pa) or pressure_pa >= floor[0]:
        return
    bound, brought = floor
    level = brought.level
    assert brought.from_pa is not None  # a floor is only set from a reading
    reason = (
        f"gross leak: {channel} fell to {pressure_pa:.4g} Pa during {during}, below {bound:.4g} Pa, "
        f"the least a tight {level.volume} cools to after its fill to {level.pressure_pa:.4g} "
        f"− {level.margin_pa:.4g} Pa from {brought.from_pa:.4g} Pa"
    )
    ctx.findings["gross_leak"] = {
        "channel": channel,
        "step": during,
        "t_s": ctx.now(),
        "pressure_pa": pressure_pa,
        "floor_pa": bound,
        "test_pressure_pa": level.pressure_pa,
        "tolerance_pa": level.margin_pa,
        "fill_from_pa": brought.from_pa,
        "gas": brought.gas,
    }
    raise Abort(reason, "gross_leak", Outcome.FAIL)


def typical(values: np.ndarray) -> float | None:
    """The median reading of ``values`` (NaN where a channel read nothing); None when none read.

    An emptied article reads low through the whole window; one glitched reading must not fail a
    tight one (a window that falls through the floor on its way down is a fit that fails).
    """
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


class Consecutive:
    """Readings below the floor in a row: a gross leak is called on the second, not on one glitch."""

    NEEDED = 2

    def __init__(self, floor: tuple[float, Brought]) -> None:
        self.floor = floor
        self.below = 0

    def check(self, ctx: StepContext, channel: str, pressure_pa: float | None, during: str) -> None:
        """Count ``pressure_pa``; end the run FAIL on the second reading in a row below the floor."""
        if pressure_pa is None or math.isnan(pressure_pa):
            return  # no reading: neither evidence nor a break in it
        self.below = self.below + 1 if pressure_pa < self.floor[0] else 0
        if self.below >= self.NEEDED:
            check_gross_leak(ctx, channel, pressure_pa, self.floor, during)
