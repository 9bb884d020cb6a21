"""Evidence of where each valve is: what "safe state confirmed" and "isolated" rest on.

A claim that a valve is open or closed is made only with positive evidence of it:

* **its limit switches** (:mod:`rig.valve_position`), when the bench gives it any: they read
  the valve itself. After every command, a valve with switches must show the commanded
  position within the bench's ``valve_response`` (:class:`PositionWatch`), else it is stuck;
* **else the gas**: an opened valve has shown once the gas on one side moved toward the
  other within ``valve_response`` (:class:`rig.engine.valve_watch.ValveWatch` keeps when);
  a closed valve shows when the two sides it parts are both known (gauged, or the
  atmosphere), hold pressures further apart than the gauges can confuse, and neither side
  moved toward the other over the last ``valve_response``: an open valve would have moved
  them, by the watch's own measure of a response.

What neither can show is not claimed. The gas cannot show a valve whose far side is not
gauged (a supply, a pump line, a leak standard), nor one between places at one pressure;
a valve with one switch can show only the position that switch watches; a switch that lies
(shorted, or bent so that it is made while the valve is not where it says) cannot be seen
unless the valve has both switches (then it reads both or neither).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rig.bench import BenchSpec
from rig.engine.topology import joined
from rig.engine.valve_watch import ValveWatch
from rig.valve_position import Position, shows

Values = dict[str, float | None]


@dataclass(frozen=True)
class Evidence:
    """Whether a valve's position is shown, and what showed it (or why nothing could)."""

    shown: bool
    how: str


def state_word(open_: bool) -> str:
    """``open`` or ``closed``."""
    return "open" if open_ else "closed"


class PositionWatch:
    """Valves with limit switches must reach the commanded position within ``valve_response``."""

    def __init__(self, bench: BenchSpec) -> None:
        self.bench = bench
        self.pending: dict[str, tuple[bool, float]] = {}  # valve → (open, commanded at)

    def commanded(self, states: dict[str, bool], t_s: float) -> None:
        """Valves were commanded at ``t_s``: those with switches owe their position."""
        for name, open_ in states.items():
            if self.bench.valves[name].position is not None:
                self.pending[name] = (open_, t_s)

    def check(self, t_s: float, positions: dict[str, Position]) -> str | None:
        """Drop the valves that arrived; the reason of the first one overdue, if any."""
        for name, position in positions.items():
            if name not in self.pending:
                continue
            open_, since = self.pending[name]
            if shows(position, open_):
                del self.pending[name]
            elif t_s > since + self.bench.valve_response_s:
                del self.pending[name]
                return (
                    f"stuck valve: {name} commanded {state_word(open_)} at t = {since:.1f} s, but its "
                    f"limit switches read {position.value} after {t_s - since:.3g} s"
                )
        return None


def valve_evidence(
    watch: ValveWatch,
    valve: str,
    open_: bool,
    positions: dict[str, Position],
    recent: Sequence[tuple[float, Values]],
) -> Evidence:
    """What shows ``valve`` to be open (``open_``) or closed now.

    ``positions`` are fresh limit-switch readings (valves without switches absent);
    ``recent`` the samples of at least the last ``valve_response``, oldest first.
    """
    position = positions.get(valve)
    if position is not None:
        if shows(position, open_):
            return Evidence(True, f"{valve}: limit switch reads {position.value}")
        return Evidence(False, f"{valve}: its limit switches read {position.value}, not {state_word(open_)}")
    has_switches = watch.bench.valves[valve].position is not None
    fallback = "its limit switches could not be read, and " if has_switches else "no position feedback, and "
    if open_:
        since = watch.shown_open.get(valve)
        if since is not None:
            return Evidence(True, f"{valve}: the gas showed it open at t = {since:.1f} s")
        return Evidence(
            False, f"{valve}: no evidence it is open ({fallback}the gas has not shown it since it was opened)"
        )
    return _closed_by_gas(watch, valve, recent, fallback)


def _closed_by_gas(
    watch: ValveWatch, valve: str, recent: Sequence[tuple[float, Values]], fallback: str
) -> Evidence:
    bench = watch.bench
    ends = bench.valves[valve].between
    parted = {**watch.states, valve: False}
    sides = (joined(bench, parted, ends[0]), joined(bench, parted, ends[1]))
    unsure = f"{valve}: no evidence it is closed ({fallback}"
    if sides[0] == sides[1]:
        return Evidence(False, f"{unsure}its two sides are joined through other open valves)")
    if not recent:
        return Evidence(False, f"{unsure}no pressures were read)")
    t_now, now = recent[-1]
    since = watch.changed_at.get(valve, -math.inf)
    window = bench.valve_response_s
    then = next(((t, v) for t, v in reversed(recent) if t <= t_now - window), None)
    if then is None or t_now - since < window:
        return Evidence(False, f"{unsure}it has not been closed for the bench's valve_response yet)")
    gas: list[tuple[float, float]] = []
    before: list[float] = []
    for side in sides:
        g, b = watch.gas(side, now), watch.gas(side, then[1])
        if g is None or b is None:
            unknown = ", ".join(sorted(side - set(bench.volumes) - {"atmosphere"})) or ", ".join(sorted(side))
            return Evidence(False, f"{unsure}the gas cannot show it: {unknown} is not gauged)")
        gas.append(g)
        before.append(b[0])
    p_a, p_b = gas[0][0], gas[1][0]
    channels = [watch.gauge(v) for side in sides for v in sorted(side & set(bench.volumes))]
    move = watch.move_needed(channels, p_a, p_b, watch.offset(sides[0], p_a) + watch.offset(sides[1], p_b))
    if move is None:
        return Evidence(False, f"{unsure}the pressures on its two sides are too close to tell apart)")
    for (p_now, size), old, toward in ((gas[0], before[0], p_b), (gas[1], before[1], p_a)):
        if math.isinf(size):
            continue  # the atmosphere does not move
        if (p_now - old) * math.copysign(1.0, toward - old) >= move:
            return Evidence(
                False, f"{unsure}the gas on its two sides moved toward each other: it may be open)"
            )
    return Evidence(
        True, f"{valve}: holds {p_a:.6g} Pa against {p_b:.6g} Pa, neither moving toward the other"
    )


def boundary_valves(bench: BenchSpec, states: dict[str, bool], volumes: Sequence[str]) -> list[str]:
    """The valves that part the gas of ``volumes`` (joined under ``states``) from everything else."""
    group: set[str] = set()
    for volume in volumes:
        group |= joined(bench, states, volume)
    return [n for n, v in bench.valves.items() if (v.between[0] in group) != (v.between[1] in group)]
