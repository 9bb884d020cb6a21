"""Declarations that load but must be refused, or that fail only when used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from drivers.models import InstrumentModel
from rig.steps import Step, StepContext

# A model of ours, declared again: ours load first, so this one is refused.
CLASHING_MODELS = (InstrumentModel("TPG362", "gauge", driver="leakrig_clash:Nothing", gauge_channels=2),)

NOT_A_MODEL = {"name": "NI-9208", "kind": "gauge"}

# A model whose driver module is not installed (its simulator is a TPG's): it loads, and says so
# when checked or opened.
GHOST_MODELS = (
    InstrumentModel(
        "GhostGauge",
        "gauge",
        driver="leakrig_ghost_driver:Ghost",
        simulator="rig.sim.server_factories:tpg",
        gauge_channels=1,
    ),
)


@dataclass(frozen=True, kw_only=True)
class Fill(Step):
    """A step kind named like one of ours."""

    kind: ClassVar[str] = "fill"

    def run(self, ctx: StepContext) -> None:
        """Nothing."""
