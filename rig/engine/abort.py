"""The engine's own way of stopping a run (never shown to a user as an error type)."""

from __future__ import annotations


class Abort(Exception):  # noqa: N818 - the engine's own control flow, never shown as an error type
    """Stop the run: an interlock, a fault, an operator, a step that could not do its job.

    ``kind`` is how the event log files it: ``interlock``, ``fault``, ``operator`` or ``step``.
    """

    def __init__(self, message: str, kind: str = "step") -> None:
        super().__init__(message)
        self.kind = kind
