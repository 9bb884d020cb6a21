"""``repeat``: run nested steps a number of times.

A container: the repeat itself is no executed step (the progress counts its nested steps,
``times`` over) and costs nothing of its own. Its bounds are checked over the whole tree
arithmetically (:mod:`rig.procedure.plan`), never by expanding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import COUNT, STEPS, step_field


@dataclass(frozen=True, kw_only=True)
class Repeat(Step):
    """Run ``steps`` in order, ``times`` times."""

    kind: ClassVar[str] = "repeat"
    bound_field: ClassVar[str | None] = "times"

    times: int = step_field("times", COUNT)
    steps: tuple[Step, ...] = step_field("steps", STEPS)

    def passes(self) -> int:
        """``times``."""
        return self.times

    def run(self, ctx: StepContext) -> None:
        """Run the nested steps ``times`` times."""
        for _ in range(self.times):
            ctx.run_steps(self.steps)
