"""``compare``: two measurements of this procedure (a repair's before and after), as a reduction factor.

The factor before/after comes with its 95 % interval; the volume's and the gauge span's
terms cancel in the ratio and are left out of it (:func:`rig.engine.measurements.comparison`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.engine.abort import Abort
from rig.engine.measurements import comparison
from rig.steps.base import Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import TEXT, step_field


@dataclass(frozen=True, kw_only=True)
class Compare(Step):
    """Compare the measurements ``before`` and ``after`` (earlier ``measure_decay`` steps), as ``name``."""

    kind: ClassVar[str] = "compare"

    name: str = step_field("name", TEXT)
    before: str = step_field("before", TEXT)
    after: str = step_field("after", TEXT)

    def check(self, ctx: CheckContext) -> None:
        """Both must be measurements taken before this step."""
        for attr in ("before", "after"):
            wanted = getattr(self, attr)
            if ctx.has(attr) and wanted not in ctx.measured():
                known = ", ".join(ctx.measured()) or "none yet"
                ctx.refuse(
                    attr, f"{wanted!r} is not a measurement taken before this step (measured: {known})"
                )

    def run(self, ctx: StepContext) -> None:
        """Compute the reduction factor and record it as a finding."""
        before, after = ctx.measurements.get(self.before), ctx.measurements.get(self.after)
        if before is None or after is None:
            raise Abort(f"compare: {self.before!r} or {self.after!r} was not measured")
        result = comparison(self.name, self.before, before, self.after, after)
        recorded = result.to_json()
        ctx.findings.setdefault("comparisons", []).append(recorded)
        low, high = recorded["interval95"]
        ctx.event(
            "finding",
            f"{self.name}: reduction factor {result.reduction_factor:.3g} "
            f"(95 % interval {low:.3g} to {high:.3g})",
            **recorded,
        )
