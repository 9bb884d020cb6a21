"""What can go wrong talking to an instrument, as types a caller can act on."""

from __future__ import annotations


class DriverError(Exception):
    """Any failure of an instrument conversation."""


class InstrumentTimeoutError(DriverError):
    """The instrument did not answer in time (it may be slow, busy or gone)."""


class InstrumentDisconnectedError(DriverError):
    """The connection is gone: refused, reset, or closed by the peer."""


class ProtocolError(DriverError):
    """The instrument answered with bytes the protocol does not allow (garbled, out of step)."""


class InstrumentError(DriverError):
    """The instrument understood and refused: it reported an error with its own code."""

    def __init__(self, message: str, code: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ActuationNotConfirmedError(DriverError):
    """A command to move something was sent but the readback does not show it done."""
