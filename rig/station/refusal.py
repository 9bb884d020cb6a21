"""A request the station refuses: an HTTP status and one line saying why."""

from __future__ import annotations


class StationError(Exception):
    """A request the station refuses: ``status`` is the HTTP status, the message one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
