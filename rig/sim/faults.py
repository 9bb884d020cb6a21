"""Faults declared in a simulated bench file, active over a window of simulation time.

Connection-level kinds act in the protocol servers (latency, timeout, garbled,
disconnect, drop: every N-th reply lost); the others act on the bench behind them (a
channel reporting sensor error, a relay that reads back closed while its valve stays put, a gauge zero shift).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CONNECTION_KINDS = frozenset({"latency", "timeout", "garbled", "disconnect", "drop"})
BENCH_KINDS = frozenset({"sensor_error", "stuck_valve", "zero_shift"})
KINDS = CONNECTION_KINDS | BENCH_KINDS


@dataclass(frozen=True)
class Fault:
    """One declared fault: ``kind`` on ``instrument`` (and ``channel``) from ``at_s`` for ``duration_s``.

    ``magnitude`` is the added delay in s for latency, the offset in Pa for a zero
    shift and N for a drop (every N-th reply lost, deterministically); other kinds ignore it.
    A duration of inf lasts to the end of the run.
    """

    instrument: str
    kind: str
    at_s: float
    duration_s: float = math.inf
    channel: int | None = None
    magnitude: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {', '.join(sorted(KINDS))})")
        if self.duration_s <= 0.0:
            raise ValueError("a fault's duration must be positive")

    def active_at(self, t_s: float) -> bool:
        """Whether the fault acts at simulation time ``t_s``."""
        return self.at_s <= t_s < self.at_s + self.duration_s


class FaultSchedule:
    """All faults of a bench; answers "is this fault active now?" against a clock."""

    def __init__(self, faults: Sequence[Fault], now: Callable[[], float]) -> None:
        self.faults = list(faults)
        self._now = now

    def active(self, instrument: str, kind: str, channel: int | None = None) -> Fault | None:
        """The first active fault of ``kind`` on ``instrument`` (and ``channel`` if the fault names one)."""
        t = self._now()
        for fault in self.faults:
            if fault.instrument != instrument or fault.kind != kind or not fault.active_at(t):
                continue
            if fault.channel is not None and channel is not None and fault.channel != channel:
                continue
            return fault
        return None

    def for_instrument(self, instrument: str) -> InstrumentFaults:
        """The connection-level view that one instrument's server consults."""
        return InstrumentFaults(self, instrument)


@dataclass(frozen=True)
class InstrumentFaults:
    """:class:`rig.sim.backend.ServerFaults` for one instrument."""

    schedule: FaultSchedule
    instrument: str

    def active(self, kind: str, channel: int | None = None) -> float | None:
        """The fault's magnitude if ``kind`` is active now, else None."""
        fault = self.schedule.active(self.instrument, kind, channel)
        return None if fault is None else fault.magnitude
