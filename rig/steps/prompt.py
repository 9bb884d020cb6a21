"""``prompt``: ask the operator; answered automatically in simulation and with ``--yes``.

``action`` names what the operator does (e.g. ``repair_seal``); a simulated bench acts it
out from its ``physics.actions``, so the validator refuses an action the simulated bench
cannot perform. On a real bench the action is the operator's, recorded as said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rig.engine.abort import Abort
from rig.steps.base import Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import ANSWER, TEXT, step_field


@dataclass(frozen=True, kw_only=True)
class Prompt(Step):
    """Ask ``message``; an answer other than ``expect`` (yes by default) stops the run."""

    kind: ClassVar[str] = "prompt"
    waits_unbounded: ClassVar[bool] = True  # on a real bench the operator answers when they answer

    message: str = step_field("message", TEXT)
    expect: Literal["yes", "no"] | None = step_field("expect", ANSWER, optional=True)
    action: str | None = step_field("action", TEXT, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """A simulated bench must be able to act out what the operator is asked to do."""
        bench = ctx.bench
        if self.action is None or bench is None or bench.doc is None or not bench.simulated:
            return
        known = list(bench.doc.mapping(("physics", "actions")))
        if self.action not in known:
            ctx.refuse(
                "action",
                f"the simulated bench {bench.name!r} cannot act out {self.action!r} "
                f"(its physics.actions: {', '.join(known) or 'none'})",
            )

    def run(self, ctx: StepContext) -> None:
        """Ask, record the answer, act on a yes, and sample."""
        answer = ctx.ask(self.message)
        ok = bool(answer)
        ctx.event("prompt", self.message, **answer.record())
        if ok != ((self.expect or "yes") == "yes"):
            raise Abort(f"operator answered no to: {self.message}", "operator")
        if ok and self.action is not None:
            ctx.act(self.action)
            ctx.event("operator", f"operator action: {self.action}", action=self.action)
        ctx.sample()
