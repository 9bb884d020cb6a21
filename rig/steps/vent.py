"""``vent``: open a volume to the atmosphere and wait for its gauge to read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.engine.abort import Abort
from rig.steps.base import Level, Step
from rig.steps.context import StepContext
from rig.steps.fields import TIME, VALVE_REF, VOLUME_REF, step_field
from rig.steps.gas import ATMOSPHERE_PA, VENT_TIMEOUT_S, VENTED_WITHIN_PA, near, pressure_channel


@dataclass(frozen=True, kw_only=True)
class Vent(Step):
    """Open ``through`` (else the volume's valve to the atmosphere); hold until its gauge reads the air.

    Without a ``timeout`` it waits a minute; a vent that does not get there is no failure of
    the run (the safe state confirms the atmosphere on its own terms).
    """

    kind: ClassVar[str] = "vent"
    bound_field: ClassVar[str | None] = "timeout"

    volume: str = step_field("volume", VOLUME_REF)
    through: str | None = step_field("through", VALVE_REF, optional=True)
    timeout_s: float | None = step_field("timeout", TIME, optional=True)

    @property
    def wait_s(self) -> float:
        """How long it waits for the atmosphere: its timeout, or a minute."""
        return self.timeout_s if self.timeout_s is not None else VENT_TIMEOUT_S

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """No nominal time (it ends at the atmosphere); at the longest its wait."""
        return None, self.wait_s

    def level(self) -> Level:
        """The atmosphere: after a vent, what an earlier fill brought the volume to no longer holds
        (a gross leak is judged against the last fill, rig.steps.gross_leak)."""
        return Level(self.volume, ATMOSPHERE_PA)

    def run(self, ctx: StepContext) -> None:
        """Open the vent path and hold until the atmosphere reads, or the wait is over."""
        bench = ctx.bench
        through = self.through or next(
            (n for n, v in bench.valves.items() if self.volume in v.between and "atmosphere" in v.between),
            None,
        )
        if through is None:
            raise Abort(f"vent: no valve between {self.volume!r} and the atmosphere")
        ctx.set_valves({through: True})
        channel = pressure_channel(bench, self.volume, None, self.location)
        ctx.hold(self.wait_s, lambda v: near(v.get(channel), ATMOSPHERE_PA, VENTED_WITHIN_PA))
