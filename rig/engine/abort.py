"""The engine's own way of stopping a run (never shown to a user as an error type)."""

from __future__ import annotations

from rig.outcome import Outcome


class Abort(Exception):  # noqa: N818 - the engine's own control flow, never shown as an error type
    """Stop the run: an interlock, a fault, an operator, a step that could not do its job.

    ``kind`` is how the event log files it: ``interlock``, ``fault``, ``operator``, ``step`` or
    ``gross_leak``. ``verdict`` is what the run comes to: ABORTED, unless the step that stops
    it has judged the article already (a gross leak is a FAIL, not a run that could not judge).
    Cleanup and the safe state follow either way.
    """

    def __init__(self, message: str, kind: str = "step", verdict: Outcome = Outcome.ABORTED) -> None:
        super().__init__(message)
        self.kind = kind
        self.verdict = verdict
