"""A gross leak ends the run FAIL: an article that empties while it settles is never passed.

Runs go over the real stack (the simulated bench in process, on a virtual clock) with the true
leak set as ``rig evaluate`` sets it: a factor of the decisive measurement's limit, made the
bench's orifice from the conditions one probe run reads (:mod:`rig.evaluation.true_leak`).
"""

from __future__ import annotations

import functools
import json
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.clock import VirtualClock
from rig.engine.abort import Abort
from rig.engine.runner import RunOutcome
from rig.evaluation.true_leak import TrueLeak, probe_conditions, set_leak
from rig.execution.bench_access import open_bench
from rig.execution.execute import Execution, RecordPlan, execute
from rig.outcome import Outcome
from rig.procedure.loader import Procedure, load_procedure
from rig.record.run_store import RunStore
from rig.report.certificate import write_certificate
from rig.steps.base import Brought, Level
from rig.steps.context import StepContext
from rig.steps.gross_leak import Consecutive, gross_leak_floor, typical
from rig.steps.vent import Vent

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
STABILISE = "  - stabilise: {channel: p_article, temperature: t_article, reject_limit: 0.5 sccm"


@functools.cache
def pressure_decay() -> tuple[Procedure, TrueLeak]:
    """The procedure and its true leak (one probe run, shared by the module's tests)."""
    procedure = load_procedure(PRESSURE_DECAY)
    return procedure, probe_conditions(procedure, seed=1)


def run_at(
    factor: float, seed: int = 1, procedure: Procedure | None = None, store: Path | None = None
) -> Execution:
    """One run of ``procedure`` (pressure_decay) with a true leak of ``factor`` × its limit."""
    base, leak = pressure_decay()
    procedure = procedure or base
    clock = VirtualClock()
    record = None if store is None else RecordPlan(RunStore(store))
    with ExitStack() as stack:
        access = open_bench(
            procedure.bench, sim=True, clock=clock, stack=stack, seed=seed, transport="inprocess"
        )
        assert access.simulation is not None
        set_leak(access.simulation, procedure, leak.cd_area_m2(factor))
        return execute(procedure, access, clock, record=record)


def assert_gross(outcome: RunOutcome, during: str) -> None:
    assert outcome.verdict is Outcome.FAIL, outcome.reason
    assert outcome.reason.startswith("gross leak: p_article fell to "), outcome.reason
    assert f"during {during}, below " in outcome.reason, outcome.reason
    assert outcome.safe_state_confirmed, outcome.safe_state_reason
    found = outcome.findings["gross_leak"]
    assert found["pressure_pa"] < found["floor_pa"] < found["test_pressure_pa"] - found["tolerance_pa"]


def test_a_fill_up_sets_a_floor_at_what_the_gas_cools_to_after_an_adiabatic_fill() -> None:
    level = Level("article", 200_000.0, 5_000.0)
    air = gross_leak_floor(Brought(level, 100_000.0, "air"))
    helium = gross_leak_floor(Brought(level, 100_000.0, "Helium"))
    unknown = gross_leak_floor(Brought(level, 100_000.0, "forming-gas-7"))
    assert air is not None and abs(air - (100_000.0 + 95_000.0 / 1.4)) < 1e-6
    # A monatomic gas heats more as it is pushed in, so a tight volume of it cools further; an
    # unknown gas is given the lowest floor any gas can have.
    assert helium is not None and abs(helium - (100_000.0 + 95_000.0 * 0.6)) < 1e-6
    assert unknown == helium


def test_a_pump_down_or_a_volume_never_read_sets_no_floor() -> None:
    # A rate of rise's gross leak is a rise: no fall bounds it.
    assert gross_leak_floor(Brought(Level("chamber", 10.0), 101_325.0)) is None
    assert gross_leak_floor(Brought(Level("article", 200_000.0, 5_000.0), None)) is None
    assert gross_leak_floor(None) is None


def test_an_article_that_empties_while_it_settles_fails_recorded_and_certified(tmp_path: Path) -> None:
    executed = run_at(1000.0, store=tmp_path)
    assert_gross(executed.outcome, "stabilise")
    # No measurement was taken of the emptied article: nothing in the record says PASS.
    assert executed.outcome.measurements == {}
    assert executed.run_dir is not None
    results = json.loads((executed.run_dir / "results.json").read_text())
    assert results["verdict"] == "FAIL" and results["reason"] == executed.outcome.reason
    assert results["gross_leak"]["step"] == "stabilise"
    events = [json.loads(line) for line in (executed.run_dir / "events.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds.index("gross_leak") < kinds.index("cleanup")
    html, _ = write_certificate(executed.run_dir)
    assert "FAIL" in html.read_text() and "PASS" not in html.read_text()


def test_leaks_too_large_to_settle_fail_rather_than_abort() -> None:
    for factor in (30.0, 300.0):
        assert_gross(run_at(factor).outcome, "stabilise")


def test_an_emptied_article_measured_without_a_settling_step_fails(tmp_path: Path) -> None:
    # The settling step waits out the fill's heat with no judgement of its own, as the seal repair's
    # second measurement does: the decay must see the article already empty.
    text = PRESSURE_DECAY.read_text()
    start = text.index(STABILISE)
    end = text.index("\n", start)
    edited = text[:start] + "  - wait: {duration: 10 min}" + text[end:]
    edited = edited.replace("bench: benches/", f"bench: {PRESSURE_DECAY.parent}/benches/")
    path = tmp_path / "waited_decay.yaml"
    path.write_text(edited)
    assert_gross(run_at(1000.0, procedure=load_procedure(path)).outcome, "decay")


def test_a_tight_article_still_passes() -> None:
    outcome = run_at(0.5).outcome
    assert outcome.verdict is Outcome.PASS, outcome.reason
    assert "gross_leak" not in outcome.findings


@settings(max_examples=10, deadline=None, derandomize=True)
@given(exponent=st.floats(min_value=-0.52, max_value=3.48), seed=st.integers(1, 50))
def test_no_leak_of_twice_the_limit_or_more_ever_passes(exponent: float, seed: int) -> None:
    factor = 10.0**exponent  # 0.3 to 3000 times the limit, evenly in decades
    outcome = run_at(factor, seed=seed).outcome
    if factor >= 2.0:
        assert outcome.verdict is not Outcome.PASS, (factor, outcome.reason)
    if outcome.reason.startswith("gross leak"):
        # An article within its limit never reads below the floor: the fill's heat alone never takes it there.
        assert factor > 1.0, (factor, outcome.reason)


def test_a_vent_after_the_fill_takes_its_floor_away() -> None:
    # Brought to the atmosphere by the vent, the article is not a filled one any more: reading the
    # air is what it should do, not a gross leak against the fill before it.
    fill = Brought(Level("article", 200_000.0, 5_000.0), 101_325.0, "air")
    vented = Brought(Vent(volume="article").level(), 199_000.0, "air")
    assert gross_leak_floor(fill) is not None and gross_leak_floor(vented) is None


class _Ctx:
    """What a gross-leak call reads of its step's context."""

    def __init__(self) -> None:
        self.findings: dict[str, object] = {}

    def now(self) -> float:
        return 12.0


def test_one_glitched_reading_is_not_a_gross_leak_two_in_a_row_are() -> None:
    fill = Brought(Level("article", 200_000.0, 5_000.0), 101_325.0, "air")
    floor = gross_leak_floor(fill)
    assert floor is not None
    below, above = floor - 1.0, floor + 1.0
    counter = Consecutive((floor, fill))
    ctx = cast(StepContext, _Ctx())
    for reading in (above, below, above, below, None, above, float("nan"), below):
        counter.check(ctx, "p_article", reading, "stabilise")  # never two below in a row
    with pytest.raises(Abort) as ended:
        counter.check(ctx, "p_article", below, "stabilise")  # the one before was below too
    assert ended.value.verdict is Outcome.FAIL and ended.value.kind == "gross_leak"
    # The window's reading is its median: a dip does not move it, an emptied article does.
    window = np.full(100, floor + 500.0)
    window[[10, 11, 12]] = floor - 5e4
    assert typical(window) == floor + 500.0
    assert typical(np.full(100, 101_325.0)) == 101_325.0 < floor
    assert typical(np.full(5, np.nan)) is None
