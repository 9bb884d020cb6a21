"""``set_valves``: move valves to the given states (each confirmed by readback, then by the gas)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import VALVE_STATES, step_field


@dataclass(frozen=True, kw_only=True)
class SetValves(Step):
    """Move the valves named to open (True) or closed (False), then take a sample."""

    kind: ClassVar[str] = "set_valves"

    valves: Mapping[str, bool] = step_field("valves", VALVE_STATES)

    def run(self, ctx: StepContext) -> None:
        """Command the valves and sample once, so the record shows the bench right after."""
        ctx.set_valves(self.valves)
        ctx.sample()
