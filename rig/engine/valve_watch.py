"""Stuck-valve detection: a commanded valve must show in the pressures as the bench implies.

A relay reads back what it was told, even when the valve behind it has seized, so the
readback alone cannot prove a valve moved. The gas can: when a valve opens between two
places at different pressures, the measured side must move toward the other side's
pressure within the bench's ``valve_response`` time; when a fill or pump-down opens a
path, its gauge must move toward the target. A side counts only when its pressure is
known (a gauged volume, or the atmosphere), and only when the difference is well above
what the gauge can resolve, so a quiet bench never trips it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rig.bench import BenchSpec
from rig.engine.topology import joined
from rig.procedure.loader import ATMOSPHERE_PA, display_step_pa, sensor_floor

# A move counts once it exceeds this many steps of the gauge's floor (noise, resolution, digits).
MOVE_FLOORS = 5.0
# ...and this share of the pressure difference, so a sluggish drift cannot pass for a response.
MOVE_SHARE = 1e-3
# An expectation is only set when the difference is this many times the move it asks for.
MARGIN = 4.0


@dataclass(frozen=True)
class Expectation:
    """``channel`` must move from ``start_pa`` toward ``toward_pa`` by ``move_pa`` before ``deadline_s``."""

    channel: str
    valves: tuple[str, ...]
    start_pa: float
    toward_pa: float
    move_pa: float
    commanded_s: float
    deadline_s: float
    what: str
    # Valves opened together can push a gauge the other way first (a small volume drains
    # into an evacuated one before the vent refills both): then any move proves a response.
    either_way: bool = False

    def met_by(self, pressure_pa: float | None) -> bool:
        """Whether the gauge moved far enough toward the target (or at all, if ``either_way``)."""
        if pressure_pa is None or not math.isfinite(pressure_pa):
            return False
        moved = pressure_pa - self.start_pa
        if self.either_way:
            return abs(moved) >= self.move_pa
        return moved * math.copysign(1.0, self.toward_pa - self.start_pa) >= self.move_pa

    def failure(self, pressure_pa: float | None) -> str:
        """Why the valve is taken to be stuck."""
        moved = "no reading" if pressure_pa is None else f"moved {pressure_pa - self.start_pa:+.3g} Pa"
        valves = " / ".join(self.valves) or "the open path"
        return (
            f"stuck valve: {valves} {self.what} at t = {self.commanded_s:.1f} s, but {self.channel} "
            f"({self.start_pa:.6g} Pa) did not move {self.move_pa:.3g} Pa toward {self.toward_pa:.6g} Pa "
            f"within {self.deadline_s - self.commanded_s:g} s ({moved})"
        )


class ValveWatch:
    """Pending expectations of one run, checked on every sample.

    ``states`` is what the valves were last commanded to (name → open); it decides which
    volumes already share their gas, so the move each side owes is its share of the
    difference: a small volume opened onto a large one moves nearly all the way, the
    large one a little, and a side open to the outside (a pump, a supply) is not judged.
    """

    def __init__(self, bench: BenchSpec, states: dict[str, bool]) -> None:
        self.bench = bench
        self.states = dict(states)
        self.pending: list[Expectation] = []

    def commanded(self, states: dict[str, bool], t_s: float, last: dict[str, float | None]) -> None:
        """Valves were commanded at ``t_s``; ``last`` is the sample just before."""
        opening = [n for n, open_ in states.items() if open_ and not self.states.get(n, False)]
        closing = [n for n, open_ in states.items() if not open_]
        self.pending = [e for e in self.pending if not set(closing) & set(e.valves)]
        after = {**self.states, **states}
        for name in opening:
            # Judge each valve against everything else this command leaves open.
            others = {**after, name: False}
            ends = self.bench.valves[name].between
            for side, other in (ends, ends[::-1]):
                self._expect_side(name, others, side, other, t_s, last, len(opening) > 1)
        self.states = after

    def _expect_side(
        self,
        valve: str,
        others: dict[str, bool],
        side: str,
        other: str,
        t_s: float,
        last: dict[str, float | None],
        either_way: bool,
    ) -> None:
        own, far = joined(self.bench, others, side), joined(self.bench, others, other)
        if own == far:
            return  # already joined through another open valve: nothing changes
        own_gas, far_gas = self._gas(own, last), self._gas(far, last)
        channel = self._gauge(own, prefer=side)
        if own_gas is None or far_gas is None or channel is None or math.isinf(own_gas[1]):
            return
        start = last.get(channel)
        if start is None:
            return
        (p_own, v_own), (p_far, v_far) = own_gas, far_gas
        final = p_far if math.isinf(v_far) else (p_own * v_own + p_far * v_far) / (v_own + v_far)
        self.expect(channel, (valve,), start, final, t_s, "opened", either_way)

    def move_needed(self, channel: str, start_pa: float, toward_pa: float) -> float | None:
        """The move that proves a response, or None when the difference is too small to tell."""
        resolution, noise = sensor_floor(self.bench, channel)
        model = self.bench.instruments[self.bench.channels[channel].instrument].model
        floor = max(resolution, noise, display_step_pa(model, max(start_pa, toward_pa)))
        move = max(MOVE_FLOORS * floor, MOVE_SHARE * abs(toward_pa - start_pa))
        return move if abs(toward_pa - start_pa) >= MARGIN * move else None

    def expect(
        self,
        channel: str,
        valves: tuple[str, ...],
        start_pa: float,
        toward_pa: float,
        t_s: float,
        what: str,
        either_way: bool = False,
    ) -> None:
        """Ask ``channel`` to move toward ``toward_pa`` within the bench's valve response time."""
        move = self.move_needed(channel, start_pa, toward_pa)
        if move is not None:
            deadline = t_s + self.bench.valve_response_s
            self.pending.append(
                Expectation(channel, valves, start_pa, toward_pa, move, t_s, deadline, what, either_way)
            )

    def check(self, t_s: float, values: dict[str, float | None]) -> str | None:
        """Drop the expectations met by this sample; the reason of the first one overdue, if any."""
        still = []
        for e in self.pending:
            if e.met_by(values.get(e.channel)):
                continue
            if t_s > e.deadline_s:
                self.pending = []
                return e.failure(values.get(e.channel))
            still.append(e)
        self.pending = still
        return None

    # --- the bench as a graph of places joined by open valves ----------------------------------

    def _gas(self, places: frozenset[str], last: dict[str, float | None]) -> tuple[float, float] | None:
        """(pressure, volume) of joined places: volume-weighted over their gauges; None if unknown.

        The atmosphere makes the volume unbounded at its pressure; any other outside place
        (a supply, a pump) makes the pressure unknown, and so does an ungauged volume.
        """
        outside = places - set(self.bench.volumes)
        if outside - {"atmosphere"}:
            return None
        if outside:
            return ATMOSPHERE_PA, math.inf
        total = weighted = 0.0
        for volume in places:
            channel = self._gauge(frozenset({volume}), prefer=volume)
            pressure = last.get(channel) if channel else None
            if pressure is None:
                return None
            size = self.bench.volumes[volume].size_m3
            total, weighted = total + size, weighted + pressure * size
        return weighted / total, total

    def _gauge(self, places: frozenset[str], prefer: str) -> str | None:
        gauges = [
            (spec.volume != prefer, name)
            for name, spec in self.bench.channels.items()
            if spec.measures == "pressure" and spec.volume in places
        ]
        return min(gauges)[1] if gauges else None
