"""Stuck-valve detection: a commanded valve must show in the pressures as the bench implies.

A relay reads back what it was told, even when the valve behind it has seized, so the
readback alone cannot prove a valve moved. The gas can. When a valve opens between two
places at different pressures, the gas on one side must head for the other side's
pressure within the bench's ``valve_response`` time. What is watched is the
volume-weighted mean pressure ΣpᵢVᵢ/ΣVᵢ of the volumes the valve's side already joins:
valves opened inside that group only move gas around in it, which leaves the mean where
it was (an adiabatic redistribution conserves Σnᵢ·Tᵢ, hence Σpᵢ·Vᵢ), so only the valve
under test can move it. A side is judged only when every volume in it is gauged and it
is not open to an unknown outside (a supply, a pump), and only when the difference is well
above what the gauges can tell apart; a fill or a pump-down likewise expects its gauge to
head for the target once its path is open.

Closing valves show in the gas less surely, but one case matters most: a volume the safe
state opens to the atmosphere must come to read the atmosphere (:class:`Vent`), within what
its gauge can tell (:func:`atmosphere_tolerance_pa`: the gauge's stated accuracy, its noise
and steps, and how far the bench's atmosphere may be off). If it stalls short of it, another
path is open that should not be (a pump valve that did not shut), and the safe state is not
confirmed. What the watch saw (which valves showed open) is evidence for the safe state's
claims (:mod:`rig.engine.evidence`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rig.bench import BenchSpec
from rig.bench_gauges import display_step_pa, sensor_accuracy, sensor_floor
from rig.engine.topology import joined

# A move counts once it exceeds this many steps of the gauges' floor (noise, resolution, digits).
MOVE_FLOORS = 5.0
# ...and this share of the pressure difference, so a sluggish drift cannot pass for a response.
MOVE_SHARE = 1e-3
OPENED = "opened"
# A single reading's noise may put it this many standard deviations off.
NOISE_COVERAGE = 4.0
# A vent that gets no closer to the atmosphere over this many response times has stalled
# (long enough that the slow last stretch of a big volume's vent is not taken for a stall).
VENT_WINDOW_RESPONSES = 6.0
# An expectation is only set when the difference is this many times the move it asks for.
MARGIN = 4.0


@dataclass(frozen=True)
class Expectation:
    """The mean of ``weights`` (channel → volume share) must move from ``start_pa`` toward
    ``toward_pa`` by ``move_pa`` before ``deadline_s``."""

    weights: tuple[tuple[str, float], ...]
    valves: tuple[str, ...]
    start_pa: float
    toward_pa: float
    move_pa: float
    commanded_s: float
    deadline_s: float
    what: str

    def mean(self, values: dict[str, float | None]) -> float | None:
        """The watched mean pressure in ``values`` (None if a gauge has no reading)."""
        total = 0.0
        for channel, weight in self.weights:
            value = values.get(channel)
            if value is None or not math.isfinite(value):
                return None
            total += weight * value
        return total

    def met_by(self, values: dict[str, float | None]) -> bool:
        """Whether the mean has moved far enough toward the target."""
        mean = self.mean(values)
        if mean is None:
            return False
        return (mean - self.start_pa) * math.copysign(1.0, self.toward_pa - self.start_pa) >= self.move_pa

    def failure(self, values: dict[str, float | None]) -> str:
        """Why the valve is taken to be stuck."""
        mean = self.mean(values)
        moved = "no reading" if mean is None else f"moved {mean - self.start_pa:+.3g} Pa"
        valves = " / ".join(self.valves) or "the open path"
        channels = " + ".join(channel for channel, _ in self.weights)
        return (
            f"stuck valve: {valves} {self.what} at t = {self.commanded_s:.1f} s, but {channels} "
            f"({self.start_pa:.6g} Pa) did not move {self.move_pa:.3g} Pa toward {self.toward_pa:.6g} Pa "
            f"within {self.deadline_s - self.commanded_s:g} s ({moved})"
        )


@dataclass
class Vent:
    """The gauged volumes open to the atmosphere must come to read it by ``deadline_s``.

    A volume that stops getting closer while still short of the atmosphere has stalled:
    something else holds it there (a path to a pump or a supply left open).
    """

    floors: dict[str, float]  # channel → the least move that counts over a window
    window_s: float
    deadline_s: float
    atmosphere_pa: float
    tolerances: dict[str, float]  # channel → how far from the atmosphere it may read, vented
    history: list[tuple[float, dict[str, float | None]]] = field(default_factory=list)

    def check(self, t_s: float, values: dict[str, float | None]) -> str | None:
        """None while venting goes on or is done (see :meth:`vented`), else why it failed."""
        self.history.append((t_s, values))
        while len(self.history) > 1 and self.history[1][0] <= t_s - self.window_s:
            self.history.pop(0)
        start_s, before = self.history[0]
        atmosphere = self.atmosphere_pa
        for channel, floor in self.floors.items():
            now = values.get(channel)
            if (
                now is None
                and t_s - start_s >= self.window_s
                and all(v.get(channel) is None for _, v in self.history)
            ):
                return f"{channel} has had no reading for {t_s - start_s:g} s: the vent cannot be shown"
            if now is None or self.reads_atmosphere(channel, now):
                continue
            if t_s > self.deadline_s:
                return f"{channel} at {now:.6g} Pa has not reached the atmosphere by the bench's vent_time"
            then = before.get(channel)
            if then is None or t_s - start_s < self.window_s:
                continue
            if abs(atmosphere - then) - abs(atmosphere - now) < floor:
                return (
                    f"{channel} stalled at {now:.6g} Pa, short of the atmosphere (no closer in "
                    f"{t_s - start_s:g} s): a path that should be shut is open"
                )
        return None

    def vented(self, values: dict[str, float | None]) -> bool:
        """Whether every watched gauge reads the atmosphere (a gauge without a reading does not)."""
        return all(
            (value := values.get(c)) is not None and self.reads_atmosphere(c, value) for c in self.floors
        )

    def reads_atmosphere(self, channel: str, pressure_pa: float) -> bool:
        """Whether ``channel`` reading ``pressure_pa`` is at the atmosphere, as far as it can tell."""
        return abs(pressure_pa - self.atmosphere_pa) <= self.tolerances[channel]


def atmosphere_tolerance_pa(bench: BenchSpec, channel: str, floor_pa: float, noise_pa: float) -> float:
    """How far a gauge at the bench's atmosphere may read from it: its stated accuracy (a bound,
    ASTM-style), a noise excursion, its floor of steps, and how far the atmosphere may be off."""
    accuracy = sensor_accuracy(bench, channel) * bench.atmosphere_pa
    return accuracy + NOISE_COVERAGE * noise_pa + floor_pa + bench.atmosphere_uncertainty_pa


class ValveWatch:
    """Pending expectations of one run, checked on every sample.

    ``states`` is what the valves were last commanded to (name → open): it decides which
    volumes already share their gas.
    """

    def __init__(self, bench: BenchSpec, states: dict[str, bool]) -> None:
        self.bench = bench
        self.states = dict(states)
        self.pending: list[Expectation] = []
        # Valve → when the gas showed it open, since it was last commanded open (evidence).
        self.shown_open: dict[str, float] = {}
        # Valve → when it was last commanded to the state it is in (a change, not a repeat).
        self.changed_at: dict[str, float] = {}

    def commanded(self, states: dict[str, bool], t_s: float, last: dict[str, float | None]) -> None:
        """Valves were commanded at ``t_s``; ``last`` is the sample just before."""
        opening = [n for n, open_ in states.items() if open_ and not self.states.get(n, False)]
        closing = {n for n, open_ in states.items() if not open_}
        for name, open_ in states.items():
            if open_ != self.states.get(name):
                self.changed_at[name] = t_s
        for name in closing:
            self.shown_open.pop(name, None)
        self.pending = [e for e in self.pending if not closing & set(e.valves)]
        if opening:
            # New paths regroup the volumes: a valve still owing its response is judged again on
            # the new groups (from the readings now), else gas let in by the new valves could
            # pass for its response.
            owing = list(
                dict.fromkeys(
                    e.valves[0] for e in self.pending if e.what == OPENED and e.valves[0] not in opening
                )
            )
            self.pending = [e for e in self.pending if e.what != OPENED]
            opening += owing
        after = {**self.states, **states}
        for name in opening:
            # Judge each valve against everything else this command leaves open.
            others = {**after, name: False}
            ends = self.bench.valves[name].between
            for side, other in (ends, ends[::-1]):
                own, far = joined(self.bench, others, side), joined(self.bench, others, other)
                if own != far:  # else already joined through another open valve: nothing changes
                    self._expect_gas(name, own, far, t_s, last)
        self.states = after

    def _expect_gas(
        self,
        valve: str,
        own: frozenset[str],
        far: frozenset[str],
        t_s: float,
        last: dict[str, float | None],
    ) -> None:
        own_gas, far_gas = self.gas(own, last), self.gas(far, last)
        if far_gas is not None and math.isinf(far_gas[1]) and not self._at_atmosphere(far, last):
            # Open to the atmosphere through a vent that has only just been opened: the far
            # end is not at the atmosphere yet, and what it is now is nobody's to say.
            return
        if own_gas is None or far_gas is None or math.isinf(own_gas[1]):
            return
        (p_own, v_own), (p_far, v_far) = own_gas, far_gas
        final = p_far if math.isinf(v_far) else (p_own * v_own + p_far * v_far) / (v_own + v_far)
        weights = tuple(
            (self.gauge(volume), self.bench.volumes[volume].size_m3 / v_own) for volume in sorted(own)
        )
        # Two gauges at one pressure disagree by up to their accuracies: only a difference
        # beyond that is surely real, and only that much can be asked of the gas.
        unsure = self.offset(own, p_own) + self.offset(far, p_far)
        self._add(weights, (valve,), p_own, final, t_s, OPENED, unsure)

    def expect(
        self, channel: str, valves: tuple[str, ...], start_pa: float, toward_pa: float, t_s: float, what: str
    ) -> None:
        """Ask ``channel`` to head for ``toward_pa`` within the bench's valve response time."""
        self._add(((channel, 1.0),), valves, start_pa, toward_pa, t_s, what)

    def _add(
        self,
        weights: tuple[tuple[str, float], ...],
        valves: tuple[str, ...],
        start_pa: float,
        toward_pa: float,
        t_s: float,
        what: str,
        unsure_pa: float = 0.0,
    ) -> None:
        move = self.move_needed([c for c, _ in weights], start_pa, toward_pa, unsure_pa)
        if move is not None:
            deadline = t_s + self.bench.valve_response_s
            self.pending.append(Expectation(weights, valves, start_pa, toward_pa, move, t_s, deadline, what))

    def move_needed(
        self, channels: list[str], start_pa: float, toward_pa: float, unsure_pa: float = 0.0
    ) -> float | None:
        """The move that proves a response, or None when the difference is too small to tell.

        ``unsure_pa`` is how much of the difference may be the gauges' disagreement.
        """
        floor = max(self.floor(c, max(start_pa, toward_pa)) for c in channels)
        move = max(MOVE_FLOORS * floor, MOVE_SHARE * abs(toward_pa - start_pa))
        return move if abs(toward_pa - start_pa) - unsure_pa >= MARGIN * move else None

    def floor(self, channel: str, pressure_pa: float) -> float:
        """The smallest change ``channel`` can show near ``pressure_pa`` (noise, resolution, digits)."""
        resolution, noise = sensor_floor(self.bench, channel, pressure_pa)
        model = self.bench.instruments[self.bench.channels[channel].instrument].model
        return max(resolution, noise, display_step_pa(model, pressure_pa))

    def noise(self, channel: str, pressure_pa: float) -> float:
        """The white noise (1 σ) of ``channel`` near ``pressure_pa``."""
        return sensor_floor(self.bench, channel, pressure_pa)[1]

    def check(self, t_s: float, values: dict[str, float | None]) -> str | None:
        """Drop the expectations met by this sample; the reason of the first one overdue, if any."""
        still = []
        for e in self.pending:
            if e.met_by(values):
                if e.what == OPENED:
                    self.shown_open.setdefault(e.valves[0], t_s)
                continue
            if t_s > e.deadline_s:
                self.pending = []
                return e.failure(values)
            still.append(e)
        self.pending = still
        return None

    def venting(self, t_s: float, period_s: float) -> Vent | None:
        """What the valves now open to the atmosphere must show (None: nothing gauged is vented).

        Gauges that read nothing (over range, or failing, which is recorded as a fault
        elsewhere) are not judged.
        """
        places = joined(self.bench, self.states, "atmosphere")
        if places - set(self.bench.volumes) - {"atmosphere"}:
            return None  # also open to a pump or a supply: where it settles is not the atmosphere
        channels = [c for c in (self.gauge(v) for v in sorted(places & set(self.bench.volumes))) if c]
        if not channels:
            return None
        window = max(VENT_WINDOW_RESPONSES * self.bench.valve_response_s, 10.0 * period_s)
        atmosphere = self.bench.atmosphere_pa
        floors = {c: MOVE_FLOORS * self.floor(c, atmosphere) for c in channels}
        tolerances = {
            c: atmosphere_tolerance_pa(self.bench, c, self.floor(c, atmosphere), self.noise(c, atmosphere))
            for c in channels
        }
        return Vent(floors, window, t_s + self.bench.vent_time_s, atmosphere, tolerances)

    # --- the gas in joined places ----------------------------------------------------------------

    def gas(self, places: frozenset[str], last: dict[str, float | None]) -> tuple[float, float] | None:
        """(mean pressure, volume) of joined places, volume-weighted over their gauges.

        The atmosphere makes the volume unbounded at its pressure; any other outside place
        (a supply, a pump) makes the pressure unknown (None), and so does an ungauged volume.
        """
        outside = places - set(self.bench.volumes)
        if outside - {"atmosphere"}:
            return None
        if outside:
            return self.bench.atmosphere_pa, math.inf
        total = weighted = 0.0
        for volume in places:
            channel = self.gauge(volume)
            pressure = last.get(channel) if channel else None
            if pressure is None:
                return None
            size = self.bench.volumes[volume].size_m3
            total, weighted = total + size, weighted + pressure * size
        return weighted / total, total

    def offset(self, places: frozenset[str], pressure_pa: float) -> float:
        """How far the gauges of ``places`` (or the atmosphere's day-to-day swing) may be off."""
        if "atmosphere" in places:
            return self.bench.atmosphere_uncertainty_pa
        gauges = [self.gauge(v) for v in places & set(self.bench.volumes)]
        accuracies = [sensor_accuracy(self.bench, g) for g in gauges if g]
        return max(accuracies, default=0.0) * abs(pressure_pa)

    def _at_atmosphere(self, places: frozenset[str], last: dict[str, float | None]) -> bool:
        """Whether every gauged volume among ``places`` reads the atmosphere, as far as it can tell."""
        atmosphere = self.bench.atmosphere_pa
        for volume in places & set(self.bench.volumes):
            channel = self.gauge(volume)
            value = last.get(channel)
            if value is None:
                return False
            tolerance = atmosphere_tolerance_pa(
                self.bench, channel, self.floor(channel, atmosphere), self.noise(channel, atmosphere)
            )
            if abs(value - atmosphere) > tolerance:
                return False
        return True

    def gauge(self, volume: str) -> str:
        """The first pressure channel on ``volume`` ("" if none: its reading is then unknown)."""
        return next(
            (n for n, s in self.bench.channels.items() if s.measures == "pressure" and s.volume == volume), ""
        )
