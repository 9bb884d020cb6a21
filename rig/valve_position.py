"""Valve position feedback: limit switches on the valve, the evidence of where it is.

A relay reads back what it was told, even when the valve behind it has seized; a limit
switch on the valve itself reads where the valve is. A valve may declare one or two::

    valves:
      supply: {instrument: daq, channel: 201, between: [supply, chamber], position: {open: 103, closed: 104}}

Each switch is wired to an input of a DAQ (the valve's own unless ``position.instrument``
names another) and read as a DC voltage: above :data:`SWITCH_MADE_V` the switch is made
(a 5 V pull-up, or a 24 V circuit through a divider). ``open`` is made when the valve is
fully open, ``closed`` when it is seated. Positive evidence of a position needs that
position's switch made and the other one, if fitted, not made: with both fitted, a broken
wire or a valve stuck half-way reads as neither and a shorted switch as both, so neither
passes for a position. With one switch, only the position it watches can be shown.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from rig.located_yaml import Doc

# A switch input reads this many volts or more when made (the halfway point of a 5 V signal).
SWITCH_MADE_V = 2.5
# What a simulated switch reads when made.
SWITCH_HIGH_V = 5.0


class Position(enum.Enum):
    """Where a valve's limit switches say it is."""

    OPEN = "open"
    CLOSED = "closed"
    BETWEEN = "neither open nor closed"  # both switches open: travelling, stuck half-way, a broken wire
    BOTH = "both open and closed (a switch fault)"
    NOT_OPEN = "not open"  # only an open switch, not made: proves nothing about closed
    NOT_CLOSED = "not closed"  # only a closed switch, not made


@dataclass(frozen=True)
class PositionFeedback:
    """A valve's limit switches: input channels of ``instrument`` (None where none is fitted)."""

    instrument: str
    open_channel: int | None = None
    closed_channel: int | None = None

    def channels(self) -> tuple[int, ...]:
        """The input channels to read."""
        return tuple(c for c in (self.open_channel, self.closed_channel) if c is not None)

    def position(self, volts: dict[int, float]) -> Position:
        """The position the switch voltages (input channel → V) show."""
        made_open = self.open_channel is not None and volts[self.open_channel] >= SWITCH_MADE_V
        made_closed = self.closed_channel is not None and volts[self.closed_channel] >= SWITCH_MADE_V
        if self.open_channel is not None and self.closed_channel is not None:
            if made_open and made_closed:
                return Position.BOTH
            if made_open:
                return Position.OPEN
            return Position.CLOSED if made_closed else Position.BETWEEN
        if self.open_channel is not None:
            return Position.OPEN if made_open else Position.NOT_OPEN
        return Position.CLOSED if made_closed else Position.NOT_CLOSED


def shows(position: Position, open_: bool) -> bool:
    """Whether ``position`` is positive evidence of the valve being open (``open_``) or closed."""
    return position is (Position.OPEN if open_ else Position.CLOSED)


def parse_position(
    doc: Doc, path: tuple[Any, ...], valve_instrument: str, daqs: set[str]
) -> PositionFeedback:
    """The ``position:`` mapping at ``path``; its instrument must be a DAQ (one of ``daqs``)."""
    doc.mapping(path, allowed={"instrument", "open", "closed"})
    instrument = valve_instrument
    if doc.get((*path, "instrument")) is not None:
        instrument = doc.text((*path, "instrument"))
        if instrument not in daqs:
            known = ", ".join(sorted(daqs)) or "none"
            raise doc.error(
                (*path, "instrument"), f"limit switches are read on a DAQ's inputs (DAQs: {known})"
            )
    open_channel = doc.integer((*path, "open")) if doc.get((*path, "open")) is not None else None
    closed_channel = doc.integer((*path, "closed")) if doc.get((*path, "closed")) is not None else None
    if open_channel is None and closed_channel is None:
        raise doc.error(path, "name the input of the open switch, the closed switch or both")
    if open_channel is not None and open_channel == closed_channel:
        raise doc.error((*path, "closed"), "the open and closed switches need an input each")
    return PositionFeedback(instrument, open_channel, closed_channel)
