"""A procedure's cost, counted over its step tree: the same figures the expanded list gave, never the list.

The oracle is the runner's former way (``_flatten`` then sums over the list), kept here: on the
shipped procedures and on generated step trees, the executed-step count, every position's
remaining nominal time and the longest duration must agree with it. A tree too large to list
(10⁷² executed steps) is counted at once; and `rig validate` / `rig run` refuse a billion
nested repeats fast, in bounded memory.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.cli import main
from rig.procedure.bounds import MAX_EXECUTED_STEPS, MAX_PLANNED_S
from rig.procedure.loader import load_procedure
from rig.procedure.plan import Plan
from rig.steps import Step
from rig.steps.compartment_isolation import CompartmentIsolation
from rig.steps.fill import Fill
from rig.steps.measure_decay import MeasureDecay
from rig.steps.reference_leak_check import ReferenceLeakCheck
from rig.steps.repeat import Repeat
from rig.steps.set_valves import SetValves
from rig.steps.stabilise import Stabilise
from rig.steps.vent import Vent
from rig.steps.wait import Wait

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "procedures").glob("*.yaml"))
CORPUS = Path(__file__).parent / "corpus"
RESPONSE_S = 10.0


# --- the oracle: how the runner counted before (expands every repeat) -----------------------------


def flatten(steps: Sequence[Step]) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        if s.kind == "repeat":
            for _ in range(s.fields.get("times", 1)):
                out.extend(flatten(s.steps))
        else:
            out.append(s)
    return out


def durations(step: Step, response_s: float) -> tuple[float | None, float | None]:
    f = step.fields
    if step.kind in ("wait", "measure_decay", "measure_differential", "master_differential"):
        return f["duration"], f["duration"]
    if step.kind == "zero_check":
        return f.get("duration", 30.0), f.get("duration", 30.0)
    if step.kind == "reference_leak_check":
        total = 2.0 * f["duration"] + f.get("settle", response_s)
        return total, total
    if step.kind == "compartment_isolation":
        hatches = response_s * len(f["hatches"])
        return f["watch"] + hatches, f.get("max_watch", f["watch"]) + hatches
    if step.kind == "measure_flow":
        total = f["settle"] + f["duration"]
        return total, total
    if step.kind == "verification_leak":
        total = f["duration"] + f.get("settle", response_s)
        return total, total
    if step.kind in ("fill", "pump_down"):
        return None, f["timeout"]
    if step.kind == "vent":
        return None, f.get("timeout", 60.0)
    if step.kind == "stabilise":
        return None, f["max"]
    return None, None


def assert_agrees_with_the_expansion(steps: Sequence[Step], response_s: float) -> None:
    plan = Plan(steps, response_s)
    flat = flatten(steps)
    nominal = [durations(s, response_s)[0] or 0.0 for s in flat]
    assert plan.count == len(flat)
    assert plan.max_s == pytest.approx(sum(durations(s, response_s)[1] or 0.0 for s in flat))
    assert plan.nominal_s == pytest.approx(sum(nominal))
    for index in range(-1, len(flat) + 1):
        # The runner asks for min(executed, count - 1): what follows the step now starting.
        expected = sum(nominal[max(index + 1, 0) :])
        assert plan.nominal_after(index) == pytest.approx(expected, abs=1e-9), index


@pytest.mark.parametrize("path", [*SHIPPED, CORPUS / "good_procedure.yaml"], ids=lambda p: p.name)
def test_the_count_and_the_time_left_are_those_of_the_expanded_list(path: Path) -> None:
    procedure = load_procedure(path)
    steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
    assert_agrees_with_the_expansion(steps, procedure.bench.valve_response_s)


def _leaf(kind: str, seconds: float) -> Step:
    at = "generated"
    return {
        "wait": lambda: Wait(duration_s=seconds, location=at),
        "measure_decay": lambda: MeasureDecay(
            name="m", channel="p", volume="v", duration_s=seconds, location=at
        ),
        "fill": lambda: Fill(volume="v", to_pa=2e5, tolerance_pa=5e3, timeout_s=seconds, location=at),
        "stabilise": lambda: Stabilise(channel="p", reject_limit_pa_m3_s=1e-5, max_s=seconds, location=at),
        "vent": lambda: Vent(volume="v", location=at),
        "reference_leak_check": lambda: ReferenceLeakCheck(
            name="r",
            valve="cal",
            channel="p",
            volume="v",
            duration_s=seconds,
            certified_rate_pa_m3_s=1e-6,
            tolerance_relative=0.1,
            location=at,
        ),
        "compartment_isolation": lambda: CompartmentIsolation(
            name="c", hatches=("a", "b"), watch_s=seconds, location=at
        ),
        "set_valves": lambda: SetValves(valves={"a": True}, location=at),
    }[kind]()


LEAVES = st.builds(
    _leaf,
    st.sampled_from(
        [
            "wait",
            "measure_decay",
            "fill",
            "stabilise",
            "vent",
            "reference_leak_check",
            "compartment_isolation",
            "set_valves",
        ]
    ),
    st.integers(1, 3600).map(float),
)
TREES = st.recursive(
    st.lists(LEAVES, max_size=4),
    lambda inner: st.lists(
        st.one_of(
            LEAVES,
            st.builds(
                lambda times, body: Repeat(times=times, steps=tuple(body), location="generated"),
                st.integers(1, 4),
                inner,
            ),
        ),
        max_size=4,
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_generated_step_trees_agree_with_their_expansion(steps: list[Step]) -> None:
    assert_agrees_with_the_expansion(steps, RESPONSE_S)


def test_a_tree_too_large_to_list_is_counted_at_once() -> None:
    body: tuple[Step, ...] = (_leaf("wait", 2.0), _leaf("set_valves", 0.0))
    for _ in range(8):
        body = (Repeat(times=10**9, steps=body, location="generated"),)
    started = time.monotonic()
    plan = Plan(body, RESPONSE_S)
    assert plan.count == 2 * 10**72
    assert plan.nominal_s == pytest.approx(2.0e72)
    assert plan.nominal_after(0) == pytest.approx(2.0e72 - 2.0)  # after the first wait
    assert plan.nominal_after(1) == pytest.approx(2.0e72 - 2.0)  # after the first set_valves
    assert plan.nominal_after(plan.count - 2) == 0.0  # after the last wait: one set_valves to go
    assert time.monotonic() - started < 0.5


def billion_nested(tmp_path: Path) -> Path:
    """Three nested repeats of a billion around a 1 s wait: 10²⁷ executed steps."""
    steps = "[{wait: {duration: 1 s}}]"
    for _ in range(3):
        steps = f"[{{repeat: {{times: 1000000000, steps: {steps}}}}}]"
    (tmp_path / "good_bench.yaml").write_text((CORPUS / "good_bench.yaml").read_text())
    path = tmp_path / "billions.yaml"
    path.write_text(f"procedure: billions\nversion: 1\nbench: good_bench.yaml\nmain: {steps}\n")
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_billion_nested_repeats_are_refused_fast_in_bounded_memory(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = billion_nested(tmp_path)
    data = tmp_path / "data"
    args = [command, str(path)] + (["--data-dir", str(data)] if command == "run" else [])
    main(["validate", str(CORPUS / "good_procedure.yaml")])  # imports and caches warm
    capsys.readouterr()
    tracemalloc.start()
    started = time.monotonic()
    try:
        code = main(args)
        elapsed_s = time.monotonic() - started
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    # At the innermost repeat: it alone exceeds the bound, and the ones around it are not refused again.
    text = path.read_text()
    line = text.splitlines()[3]
    where = f"4:{line.rindex('times: ') + len('times: ') + 1}"
    assert lines[0].startswith(f"{path}:{where}: this repeat executes 1 000 000 000 steps"), lines[0]
    assert "Traceback" not in err
    assert elapsed_s < 2.0
    assert peak_bytes < 20e6
    assert not data.exists()


def test_the_shipped_procedures_are_well_within_the_bounds() -> None:
    for path in SHIPPED:
        procedure = load_procedure(path)
        plan = Plan((*procedure.setup, *procedure.main, *procedure.cleanup), procedure.bench.valve_response_s)
        assert plan.count < MAX_EXECUTED_STEPS / 1000
        assert plan.max_s < MAX_PLANNED_S / 100
