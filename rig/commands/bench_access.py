"""What the commands that reach a bench share: checking its simulation's arguments, loading a procedure."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rig.errors import InputError
from rig.procedure.loader import Procedure, ProcedureInvalid, load_procedure

if TYPE_CHECKING:
    pass

EXIT_INVALID = 2
# The fastest --speed: at 1000x a 1 s sample period lasts 1 ms of wall time, about one loopback
# transaction with one instrument; beyond it samples would be skipped, not taken faster.
MAX_SPEED = 1000.0


def check_simulation_arguments(speed: float | None, seed: int | None) -> None:
    """Refuse a ``--speed`` or ``--seed`` a simulation cannot honour (before anything is touched)."""
    if speed is not None and not 0.0 < speed <= MAX_SPEED:
        raise InputError(
            f"--speed must be a number above 0 and at most {MAX_SPEED:g}, got {speed}: faster, one "
            "sample period passes before the instruments can answer"
        )
    if seed is not None and not 0 <= seed < 2**32:
        raise InputError(f"--seed must be a whole number from 0 to 2**32 - 1, got {seed}")


def load_or_report(path: str, bench: str | None) -> Procedure | None:
    """The validated procedure, or None after printing each problem as ``file:line:col: message``."""
    try:
        return load_procedure(path, bench)
    except ProcedureInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
