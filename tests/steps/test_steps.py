"""The step kinds as a family: the registry, the declarations, the one walk, and the layer they sit in."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from rig.cli import main
from rig.procedure.loader import load_procedure
from rig.steps import (
    Step,
    StepContext,
    map_steps,
    register_step,
    step_field,
    step_kinds,
    unregister_step,
    walk,
)
from rig.steps.fields import STEPS, TIME
from rig.steps.library import BUILTIN_STEPS
from rig.steps.measure_decay import MeasureDecay
from rig.steps.repeat import Repeat
from rig.steps.wait import Wait
from tests.test_layers import violations

ROOT = Path(__file__).resolve().parents[2]
README_KINDS = [
    "set_valves",
    "pump_down",
    "fill",
    "isolate",
    "stabilise",
    "measure_decay",
    "measure_differential",
    "master_differential",
    "vent",
    "wait",
    "repeat",
    "reference_leak_check",
    "verification_leak",
    "compartment_isolation",
    "compare",
    "prompt",
    "zero_check",
    "measure_flow",
]


def test_the_steps_import_neither_the_runner_nor_the_loader_nor_anything_above() -> None:
    forbidden = (
        "rig.engine.runner",
        "rig.engine.step_context",
        "rig.procedure",
        "rig.sim",
        "rig.record",
        "rig.report",
        "rig.planning",
        "rig.commands",
        "rig.cli",
    )
    found = violations("rig.steps", forbidden)
    assert not found, "\n".join(found)


def test_our_kinds_are_registered_one_module_each() -> None:
    kinds = step_kinds()
    assert [cls.kind for cls in BUILTIN_STEPS] == README_KINDS
    for cls in BUILTIN_STEPS:
        assert kinds[cls.kind] is cls
        # One kind, one module named after it: adding a kind is one module and its tests.
        assert cls.__module__ == f"rig.steps.{cls.kind}", cls
        assert cls.__doc__ and cls.run.__doc__, cls
        names = [d.name for d in cls.declared()]
        assert len(set(names)) == len(names), cls
        assert cls.bound_field is None or cls.bound_field in names, cls
        for d in cls.declared():
            # SI inside: a quantity's attribute carries its unit in its name.
            unit = {"time": "_s", "pressure": "_pa", "leak_rate": "_pa_m3_s"}.get(d.type.name)
            assert unit is None or d.attr.endswith(unit), (cls, d)


def test_the_kinds_that_fit_their_samples_keep_them_and_only_the_channels_they_fit() -> None:
    procedures = sorted((ROOT / "procedures").glob("*.yaml"))
    loaded = [load_procedure(path) for path in procedures]
    kept: dict[str, set[tuple[str, ...]]] = {}
    for procedure in loaded:
        for step in walk([*procedure.setup, *procedure.main, *procedure.cleanup]):
            kept.setdefault(step.kind, set()).add(step.kept_channels(procedure.bench))
    keeping = {kind for kind, channels in kept.items() if channels != {()}}
    assert keeping == {
        "stabilise",
        "measure_decay",
        "reference_leak_check",
        "verification_leak",
        "compartment_isolation",
        "measure_differential",
        "master_differential",
        "zero_check",
        "measure_flow",
    }
    for procedure in loaded:
        for step in walk([*procedure.setup, *procedure.main, *procedure.cleanup]):
            channels = step.kept_channels(procedure.bench)
            if step.kind in (
                "stabilise",
                "reference_leak_check",
                "verification_leak",
                "measure_differential",
                "master_differential",
                "measure_flow",
            ):
                assert channels == (step.fields["channel"],), step
            elif step.kind == "measure_decay":
                assert isinstance(step, MeasureDecay)
                assert channels == tuple(c for c in (step.channel, step.temperature) if c is not None)
            elif step.kind == "zero_check":
                assert channels == tuple(
                    c for c in (step.fields["channel"], step.fields.get("reference")) if c
                )
            elif step.kind == "compartment_isolation":
                # Its segments are known only once the hatches are shut: every channel.
                assert channels == tuple(procedure.bench.channels)
            else:
                assert channels == (), step


@dataclass(frozen=True, kw_only=True)
class Pause(Step):
    """Wait without a name of its own."""

    kind: ClassVar[str] = "pause"
    duration_s: float = step_field("duration", TIME)

    def run(self, ctx: StepContext) -> None:
        """Hold."""
        ctx.hold(self.duration_s)


def test_registering_refuses_a_taken_kind_or_one_without_a_name() -> None:
    assert register_step(Pause) is Pause
    try:
        assert register_step(Pause) is Pause  # the same class again changes nothing
        assert step_kinds()["pause"] is Pause
        imposter = dataclasses.make_dataclass("Imposter", [], bases=(Pause,), frozen=True)
        with pytest.raises(
            ValueError, match=re.escape("step kind 'pause' is already tests.steps.test_steps.Pause")
        ):
            register_step(imposter)
        with pytest.raises(ValueError, match=re.escape("already rig.steps.wait.Wait")):
            register_step(
                dataclasses.make_dataclass(
                    "W", [("kind", ClassVar[str], "wait")], bases=(Pause,), frozen=True
                )
            )
    finally:
        unregister_step("pause")
    assert "pause" not in step_kinds()
    nameless = dataclasses.make_dataclass(
        "Nameless", [("kind", ClassVar[str], "two words")], bases=(Pause,), frozen=True
    )
    with pytest.raises(ValueError, match="a `kind` that is a name"):
        register_step(nameless)


class Undecorated(Pause):
    """A subclass that forgot ``@dataclass``: its declarations would be plain class attributes."""

    kind: ClassVar[str] = "undecorated"
    extra_s: float = step_field("extra", TIME)


@dataclass(frozen=True, kw_only=True)
class Runless(Step):
    """A kind that never says how it runs."""

    kind: ClassVar[str] = "runless"


def test_registering_refuses_what_the_loader_could_not_build_or_the_engine_not_run() -> None:
    with pytest.raises(ValueError, match="decorate it with @dataclass"):
        register_step(Undecorated)
    with pytest.raises(ValueError, match=re.escape("implements run(ctx)")):
        register_step(Runless)
    with pytest.raises(ValueError, match=re.escape("a subclass of rig.steps.Step")):
        register_step(dict)  # type: ignore[type-var]
    assert not {"undecorated", "runless"} & set(step_kinds())


def test_a_step_is_typed_in_si_and_shows_its_fields_as_written() -> None:
    step = MeasureDecay(
        name="after", channel="p_article", volume="article", duration_s=600.0, limit_pa_m3_s=1e-4
    )
    assert step.fields == {
        "name": "after",
        "channel": "p_article",
        "volume": "article",
        "duration": 600.0,
        "limit": 1e-4,
    }
    assert step.label == "after" and Wait(duration_s=1.0).label == "wait"
    assert step.planned_duration(10.0) == (600.0, 600.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.duration_s = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        MeasureDecay(name="after", channel="p_article", volume="article")  # type: ignore[call-arg]


def tree() -> tuple[Step, ...]:
    inner = Repeat(times=2, steps=(Wait(duration_s=1.0, location="w1"), Wait(duration_s=2.0, location="w2")))
    return (Wait(duration_s=3.0, location="w0"), Repeat(times=3, steps=(inner,), location="outer"))


def test_the_walk_visits_nested_steps_before_their_container() -> None:
    walked = [s.location or f"inner x{s.passes()}" for s in walk(tree())]
    assert walked == ["w0", "w1", "w2", "inner x2", "outer"]
    assert Repeat.is_container() and not Wait.is_container()
    assert [d.type for d in Repeat.declared()][-1] is STEPS


def test_map_steps_changes_every_step_and_keeps_the_tree() -> None:
    longer = map_steps(
        tree(), lambda s: dataclasses.replace(s, duration_s=10 * s.duration_s) if isinstance(s, Wait) else s
    )
    assert [s.duration_s for s in walk(longer) if isinstance(s, Wait)] == [30.0, 10.0, 20.0]
    assert [type(s).__name__ for s in walk(longer)] == [type(s).__name__ for s in walk(tree())]
    assert [s.duration_s for s in walk(tree()) if isinstance(s, Wait)] == [3.0, 1.0, 2.0]  # untouched


def test_the_shipped_procedures_load_as_typed_steps() -> None:
    for path in sorted((ROOT / "procedures").glob("*.yaml")):
        procedure = load_procedure(path)
        for step in walk((*procedure.setup, *procedure.main, *procedure.cleanup)):
            assert step_kinds()[step.kind] is type(step)
            assert step.location.startswith(f"{path}:")


def test_a_step_with_a_refused_field_is_still_checked_for_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every problem at once: a field refused holds a placeholder, and the step's own checks go on."""
    path = tmp_path / "partial.yaml"
    path.write_text(
        "procedure: partial\nversion: 1\n"
        "main:\n"
        "  - fill: {volume: article, to: 5 bar, tolerance: 6 bar, timeout: soon}\n"
        "  - measure_decay: {name: before, channel: p_article, volume: article, duration: -1 s}\n"
        "  - compare: {name: c, before: before, after: nothing}\n"
    )
    bench = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
    assert main(["validate", str(path), "--bench", str(bench)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    problems = [line.removeprefix(f"{path}:") for line in lines]
    assert problems == [
        "4:67: cannot read 'soon' as a quantity (\"'soon' is not defined in the unit registry\")",
        "4:33: fill target 500000 Pa is above the bench's max_pressure 300000 Pa: the interlock would "
        "trip before it is reached",
        "4:51: a tolerance of 600000 Pa around 500000 Pa accepts any pressure down to vacuum: it must be "
        "smaller than the target",
        "5:82: time must be positive, got '-1 s'",
        # `before` was measured (its name read, though its duration was not): only `after` is unknown.
        "6:47: 'nothing' is not a measurement taken before this step (measured: before)",
    ]
