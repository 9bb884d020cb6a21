"""``wait``: do nothing for a while, still sampling and checking the interlocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import TIME, step_field


@dataclass(frozen=True, kw_only=True)
class Wait(Step):
    """Sample for ``duration_s``."""

    kind: ClassVar[str] = "wait"
    bound_field: ClassVar[str | None] = "duration"

    duration_s: float = step_field("duration", TIME)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration, nominally and at the longest."""
        return self.duration_s, self.duration_s

    def run(self, ctx: StepContext) -> None:
        """Hold for the duration."""
        ctx.hold(self.duration_s)
