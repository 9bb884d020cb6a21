"""Gauges reading beyond their range: counted apart from dropouts, and told once per episode.

A gauge over (or under) its range has not failed: the pressure is simply where it cannot
read, as a differential head is during a fill. The sample is still an empty cell (the
range limit is not the pressure), but it is counted as ``over_range`` or ``under_range``
rather than as a dropout, and the run's events say when a channel left its range and when
it came back, not once per sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from drivers.readings import GaugeState

# The state's name in counts and messages.
RANGE_NAMES = {GaugeState.OVERRANGE: "over range", GaugeState.UNDERRANGE: "under range"}
EVENT_KIND = "range"
IN_RANGE = "in range"


@dataclass
class RangeChange:
    """A channel that left its range, or came back to it (``state`` None), at ``t_s``."""

    channel: str
    state: GaugeState | None
    t_s: float
    since_s: float | None = None  # when it left, for one that came back

    @property
    def state_name(self) -> str:
        """``over range``, ``under range`` or ``in range`` (back): the event's ``state``, for readers."""
        return RANGE_NAMES[self.state] if self.state is not None else IN_RANGE

    def message(self) -> str:
        """One event line."""
        if self.state is not None:
            what = RANGE_NAMES[self.state]
            return f"{self.channel}: {what} (recorded as empty cells, counted as {what}, not as dropouts)"
        since_s = self.t_s if self.since_s is None else self.since_s
        return f"{self.channel}: back in range after {self.t_s - since_s:.1f} s"


@dataclass
class RangeWatch:
    """Per-channel counts of samples beyond range, and the changes worth an event."""

    channels: Iterable[str]
    over_range: dict[str, int] = field(init=False)
    under_range: dict[str, int] = field(init=False)
    _since: dict[str, tuple[GaugeState, float]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        names = list(self.channels)
        self.over_range = dict.fromkeys(names, 0)
        self.under_range = dict.fromkeys(names, 0)

    def update(self, t_s: float, states: Mapping[str, GaugeState]) -> list[RangeChange]:
        """Count this sample's channels beyond range (``states``); return what changed since the last."""
        changes: list[RangeChange] = []
        for channel, state in states.items():
            counts = self.over_range if state is GaugeState.OVERRANGE else self.under_range
            counts[channel] = counts.get(channel, 0) + 1
            before = self._since.get(channel)
            if before is None or before[0] is not state:
                self._since[channel] = (state, t_s if before is None else before[1])
                changes.append(RangeChange(channel, state, t_s))
        for channel in [c for c in self._since if c not in states]:
            _, since = self._since.pop(channel)
            changes.append(RangeChange(channel, None, t_s, since))
        return changes

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"over_range": {channel: n}, "under_range": {...}}`` for ``results.json``'s faults."""
        return {"over_range": dict(self.over_range), "under_range": dict(self.under_range)}
