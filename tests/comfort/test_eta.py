"""The ETA of a run with steps of unknown length: the known part, "+ up to" their bounds, or "unknown"."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rig.bench import load_bench
from rig.engine.live_view import LiveView
from rig.engine.observer import StepProgress
from rig.procedure.loader import load_procedure
from rig.procedure.plan import Plan, Remaining
from rig.steps import Step
from rig.steps.fill import Fill
from rig.steps.measure_decay import MeasureDecay
from rig.steps.prompt import Prompt
from rig.steps.repeat import Repeat
from rig.steps.wait import Wait
from tests.engine.sim_runs import MOCKUP, run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "procedures").glob("*.yaml"))
AT = "generated"


def expanded(steps: Sequence[Step]) -> list[Step]:
    """The executed steps, every repeat listed out (the oracle: fine for small procedures)."""
    out: list[Step] = []
    for step in steps:
        if step.is_container():
            for _ in range(step.passes()):
                out += expanded(step.nested())
        else:
            out.append(step)
    return out


def remaining_by_listing(steps: Sequence[Step], index: int, response_s: float) -> Remaining:
    later = expanded(steps)[max(index + 1, 0) :]
    spans = [s.planned_duration(response_s) for s in later]
    nominal = sum(n or 0.0 for n, _ in spans)
    extra = sum(max(0.0, (m or 0.0) - (n or 0.0)) for n, m in spans)
    return Remaining(nominal, extra, any(s.waits_unbounded for s in later))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_what_is_left_agrees_with_the_listed_steps(path: Path) -> None:
    procedure = load_procedure(path)
    steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
    response_s = procedure.bench.valve_response_s
    plan = Plan(steps, response_s)
    for index in range(-1, plan.count):
        got, want = plan.after(index), remaining_by_listing(steps, index, response_s)
        assert got.nominal_s == pytest.approx(want.nominal_s) and got.extra_s == pytest.approx(want.extra_s)
        assert got.unbounded is want.unbounded


def test_repeats_multiply_the_bounds_and_a_prompt_is_unbounded() -> None:
    fill = Fill(volume="v", to_pa=2e5, tolerance_pa=5e3, timeout_s=300.0, location=AT)
    body = (fill, MeasureDecay(name="m", channel="p", volume="v", duration_s=600.0, location=AT))
    steps = (
        Wait(duration_s=60.0, location=AT),
        Repeat(times=3, steps=body, location=AT),
        Prompt(message="done?", location=AT),
        Wait(duration_s=30.0, location=AT),
    )
    plan = Plan(steps, 10.0)
    assert plan.after(0) == Remaining(3 * 600.0 + 30.0, 3 * 300.0, True)
    assert plan.after(2) == Remaining(2 * 600.0 + 30.0, 2 * 300.0, True)  # inside the first pass
    assert plan.after(6) == Remaining(30.0, 0.0, True)  # the last decay: the prompt is still to come
    assert plan.after(7) == Remaining(30.0, 0.0, False)  # at the prompt: nothing unbounded after it
    assert plan.after(8) == Remaining(0.0, 0.0, False)


def line_for(progress: StepProgress, prompts_wait: bool = True) -> str:
    console = Console(file=io.StringIO(), width=120)
    view = LiveView(load_bench(MOCKUP), lambda: progress.started_s, console, prompts_wait=prompts_wait)
    view.step_started(progress)
    written = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(written, str)
    return written.strip()


def test_the_eta_says_the_known_part_and_the_bound_apart() -> None:
    fill = StepProgress(
        "fill", "fill", 2, 6, started_s=0.0, max_s=300.0, remaining_after_s=600.0, extra_after_s=900.0
    )
    assert line_for(fill) == "step 2/6 · fill (fill) · ≤ 5:00 · ETA 10:00 + up to 20:00"
    decay = StepProgress(
        "decay", "measure_decay", 5, 6, started_s=0.0, nominal_s=600.0, remaining_after_s=30.0
    )
    assert line_for(decay) == "step 5/6 · decay (measure_decay) · 10:00 · ETA 10:30"
    prompt = StepProgress("ask", "prompt", 3, 6, started_s=0.0, waits_unbounded=True, remaining_after_s=60.0)
    assert line_for(prompt) == "step 3/6 · ask (prompt) · ETA 1:00 + unknown (operator prompts)"
    later = StepProgress("w", "wait", 1, 6, started_s=0.0, nominal_s=5.0, unbounded_after=True)
    assert line_for(later).endswith("ETA 0:05 + unknown (operator prompts)")
    assert line_for(later, prompts_wait=False).endswith("ETA 0:05")  # --sim, --yes: answered at once


def test_a_run_reports_the_bounds_of_the_steps_to_come(tmp_path: Path) -> None:
    seen: list[StepProgress] = []

    class Steps:
        def step_started(self, progress: StepProgress) -> None:
            seen.append(progress)

        def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
            pass

        def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
            pass

        def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
            pass

        def finished(self, outcome: Any) -> None:
            pass

    done = run(tmp_path, "pressure_decay", observer=lambda runner: Steps())
    assert done.outcome.verdict.value == "PASS"
    first = seen[0]
    # The fill's timeout (5 min) and the stabilisation's max (15 min) are unknown lengths: bounds.
    assert first.extra_after_s == pytest.approx(5 * 60.0 + 15 * 60.0)
    assert first.remaining_after_s == pytest.approx(10 * 60.0)  # the decay: the known part
    assert not any(p.unbounded_after or p.waits_unbounded for p in seen)
    decay = next(p for p in seen if p.kind == "measure_decay")
    assert decay.extra_after_s == 0.0
