"""Planning a procedure's measurement: read it from the procedure and its bench, then check the plan.

The maths of a plan (:mod:`rig.analysis.planner`) takes numbers; this package is what stands
between it and a procedure: :mod:`~rig.planning.measurement` reads a ``measure_decay`` step and
its bench into a :class:`~rig.analysis.planner.MeasurementSetup`,
:mod:`~rig.planning.monte_carlo` puts synthetic tests of the planned length through the
engine's own fit and verdict, and :mod:`~rig.planning.simulation` runs the procedure itself on
the simulated bench, judged against the limit the plan was made for.
"""

from rig.planning.measurement import (
    choose_measurement,
    level_before,
    longest_allowed,
    measurements,
    setup_for,
)
from rig.planning.monte_carlo import MonteCarlo, monte_carlo_check
from rig.planning.simulation import SimulatedRun, as_planned, simulation_check

__all__ = [
    "MonteCarlo",
    "SimulatedRun",
    "as_planned",
    "choose_measurement",
    "level_before",
    "longest_allowed",
    "measurements",
    "monte_carlo_check",
    "setup_for",
    "simulation_check",
]
