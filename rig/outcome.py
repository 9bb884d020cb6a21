"""One vocabulary for what a measurement or a run comes to: PASS, FAIL, INCONCLUSIVE, MEASURED, ABORTED.

The analysis decides a leak rate against its limit (:func:`rig.analysis.decide`), the engine
judges a measurement and a run, the record keeps them, reports and the command line show
them: all in these words. An :class:`Outcome` is a ``str``, so JSON, YAML and f-strings see
the bare word (``"PASS"``) and records written before this enum read back unchanged.

This module imports nothing of the project, so that every layer, the analysis included, may
use it.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    """What a measurement, or a whole run, came to."""

    # The upper confidence bound is at or below the limit (a run: every measurement passed).
    PASS = "PASS"
    # The lower confidence bound is above the limit (a run: some measurement failed).
    FAIL = "FAIL"
    # The interval straddles the limit, or the evidence cannot carry a verdict: test longer, or fix
    # what the refusal names.
    INCONCLUSIVE = "INCONCLUSIVE"
    # Measured without a limit: a value for information that decides nothing.
    MEASURED = "MEASURED"
    # The run stopped before it could judge (interlock, fault, operator), or its safe state or
    # record cannot be vouched for.
    ABORTED = "ABORTED"

    @property
    def decisive(self) -> bool:
        """Whether this outcome decides against a limit (PASS or FAIL)."""
        return self in (Outcome.PASS, Outcome.FAIL)


def outcome_of(value: object) -> Outcome | None:
    """``value`` as an :class:`Outcome` if it is one of the words (a record may hold anything), else None."""
    if isinstance(value, Outcome):
        return value
    try:
        return Outcome(value) if isinstance(value, str) else None
    except ValueError:
        return None
