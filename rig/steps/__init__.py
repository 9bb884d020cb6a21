"""Step kinds: one typed class per kind, each owning its fields, checks, planned duration and execution.

A step kind is a frozen dataclass subclass of :class:`Step` with a ``kind`` and its fields
declared with :func:`step_field` (a YAML name, a :class:`~rig.steps.fields.FieldType`, the
SI attribute it fills). Registered with :func:`register_step`, the loader accepts it in a
procedure (``{kind: {fields}}``), checks its fields and calls its ``check``; the engine runs
it (``run``, against the :class:`StepContext` protocol); planning, progress and calibration
ask it (``planned_duration``, ``relies_on``). Adding a kind is one module and its tests::

    @dataclass(frozen=True, kw_only=True)
    class Knock(Step):
        \"\"\"Knock on the chamber and listen for a while.\"\"\"

        kind: ClassVar[str] = "knock"
        duration_s: float = step_field("duration", TIME)

        def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
            return self.duration_s, self.duration_s

        def run(self, ctx: StepContext) -> None:
            ctx.event("knock", "knock knock")
            ctx.hold(self.duration_s)

    register_step(Knock)

Kinds come through the entry-point group ``leakrig.steps`` (:mod:`drivers.plugins`), loaded the
first time the kinds are asked for (:func:`step_kinds`): ours are
:data:`rig.steps.library.BUILTIN_STEPS`, named by our own ``pyproject.toml`` the way a plugin's are
named by its own; :func:`step_plugins` says what each entry point brought, or why it brought nothing.

Where this package sits: it imports the engine's helpers (fits, verdict entries,
:class:`rig.engine.abort.Abort`) but never the runner, which hands each step a context; the
loader (:mod:`rig.procedure.loader`) imports it to build steps.
"""

from __future__ import annotations

from rig.steps.base import Level, MeasuredWindow, Step, map_steps, walk
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import FieldType, step_field
from rig.steps.registry import register_step, step_kinds, step_plugins, unregister_step

__all__ = [
    "CheckContext",
    "FieldType",
    "Level",
    "MeasuredWindow",
    "Step",
    "StepContext",
    "map_steps",
    "register_step",
    "step_field",
    "step_kinds",
    "step_plugins",
    "unregister_step",
    "walk",
]
