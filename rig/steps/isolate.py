"""``isolate``: close every valve that touches a volume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import VOLUME_REF, step_field


@dataclass(frozen=True, kw_only=True)
class Isolate(Step):
    """Close every valve with ``volume`` on one of its sides, then take a sample."""

    kind: ClassVar[str] = "isolate"

    volume: str = step_field("volume", VOLUME_REF)

    def run(self, ctx: StepContext) -> None:
        """Close the volume's valves and sample once."""
        ctx.set_valves({n: False for n, v in ctx.bench.valves.items() if self.volume in v.between})
        ctx.sample()
