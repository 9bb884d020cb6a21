"""The physics as oracle: generated fault scenarios judged by invariants over the simulator's truth.

See :mod:`tests.reliability.oracle` for the campaign, the invariants (I1-I6) and the measured
run times. CI runs:

* every stored regression scenario (``oracle_regressions.json``: shrunk scenarios that broke
  an invariant when found), each asserting *all* invariants; a failure names every invariant
  that still fails, with its message;
* 12 scenarios drawn from a fixed seed (``RELIABILITY_FULL=1``: 500), each asserting all
  invariants; a failure prints the scenario as JSON and the command that shrinks and records
  it (``ORACLE_SHRINK=1`` shrinks it here);
* a tenth of them (at least 3) through ``rig run`` in a subprocess (I3: exit code, JSON line,
  results.json, no traceback; I4 on its record);
* the oracle's own checks: clean runs raise no false I2-I5, each invariant sees a planted
  defect, the shrinker and the generator are deterministic.

``RELIABILITY_REPORT=path`` appends one JSON line per run for RELIABILITY.md.
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from rig.sim.faults import KINDS
from tests.reliability.oracle import (
    Judged,
    Keys,
    candidates,
    failing,
    judge,
    load_regressions,
    measure,
    shrink,
)
from tests.reliability.oracle_cli import check_cli, without_stops
from tests.reliability.oracle_invariants import (
    Violation,
    check_all,
    i1_safe_claim,
    i2_pass_measurements,
    i6_no_false_alarm,
)
from tests.reliability.oracle_play import play
from tests.reliability.oracle_scenario import (
    LEAK_RANGES,
    bench_file,
    campaign,
    cheap_in_the_cli,
    describe,
    draw,
    info,
)

pytestmark = pytest.mark.integration

FULL = os.environ.get("RELIABILITY_FULL") == "1"
REPORT = os.environ.get("RELIABILITY_REPORT")
SEED = 20261126
# 12 in CI keeps the whole suite inside its 15 minutes with room; the full campaign is 500.
SCENARIOS = campaign(SEED, 500 if FULL else 12)
CLI_EVERY = 10
REGRESSIONS = load_regressions()
# What ran, for the session's closing summary (tests/reliability/conftest.py).
REPLAYED: list[tuple[str, str, list[str]]] = []
GENERATED: list[tuple[str, list[str]]] = []


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """The campaign's temporary signing key: runs are sealed with it and verified against it."""
    return Keys(tmp_path_factory.mktemp("oracle-keys"))


def _report(row: dict[str, Any]) -> None:
    if REPORT:
        with open(REPORT, "a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")


def _explain(judged: Judged) -> str:
    lines = [f"{v.invariant}: {v.message}" for v in judged.violations]
    scenario = json.dumps(judged.scenario)
    lines += [
        f"run: {judged.verdict}: {judged.reason[:300]}",
        f"scenario: {scenario}",
        f"shrink and record: python -m tests.reliability.oracle --scenario '{scenario}' --shrink --record",
    ]
    return "\n".join(lines)


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c["name"] for c in REGRESSIONS])
def test_a_stored_regression_holds_every_invariant(case: dict[str, Any], keys: Keys, tmp_path: Path) -> None:
    judged = judge(case["scenario"], keys, tmp_path)
    _report(judged.row("oracle regressions", id=case["name"], found_as=case["invariant"]))
    REPLAYED.append((case["name"], case["invariant"], [v.invariant for v in judged.violations]))
    failing_now = ", ".join(v.invariant for v in judged.violations)
    assert not judged.violations, (
        f"stored regression {case['name']} (found as {case['invariant']}) still fails {failing_now}\n"
        + _explain(judged)
    )


@pytest.mark.parametrize(("sid", "scenario"), SCENARIOS, ids=[sid for sid, _ in SCENARIOS])
def test_a_generated_scenario_holds_every_invariant(
    sid: str, scenario: dict[str, Any], keys: Keys, tmp_path: Path
) -> None:
    judged = judge(scenario, keys, tmp_path / "run")
    _report(judged.row("oracle campaign", id=sid))
    GENERATED.append((sid, [v.invariant for v in judged.violations]))
    if judged.violations and os.environ.get("ORACLE_SHRINK") == "1":
        for v in judged.violations:
            small, found, runs = shrink(scenario, failing(v.signature, keys))
            print(f"{v.invariant} shrunk in {runs} runs: {json.dumps(small)}")
            print(f"  {found.message if found else '(no longer fails)'}")
    assert not judged.violations, f"{describe(scenario)}\n" + _explain(judged)


# A tenth of the scenarios (at least 3), spread over those whose faults do not make ``rig run``
# wait out its 2 s driver timeouts (a lasting one costs it minutes).
_CHEAP = [(sid, s) for sid, s in SCENARIOS if cheap_in_the_cli(s)]
_PICKS = min(len(_CHEAP), max(3, len(SCENARIOS) // CLI_EVERY))
CLI_CASES = [_CHEAP[n * len(_CHEAP) // _PICKS] for n in range(_PICKS)]


@pytest.mark.parametrize(("sid", "scenario"), CLI_CASES, ids=[sid for sid, _ in CLI_CASES])
def test_the_cli_exit_code_matches_its_verdict(
    sid: str, scenario: dict[str, Any], keys: Keys, tmp_path: Path
) -> None:
    check = check_cli(scenario, tmp_path, keys.key_dir, keys.hex)
    _report({"suite": "oracle cli", "id": sid, "scenario": describe(without_stops(scenario)), **check.row()})
    assert check.exit_code in (0, 1, 3, 4), check.row()
    assert not check.violations, "\n".join(f"{v.invariant}: {v.message}" for v in check.violations)


# --- the oracle's own checks ------------------------------------------------------------------------


@pytest.mark.parametrize("procedure", list(LEAK_RANGES))
def test_a_clean_run_raises_no_false_alarm_of_the_oracle(procedure: str, keys: Keys, tmp_path: Path) -> None:
    """No fault: the record is whole, sealed, every sample there, every PASS honest (I2-I5).

    (I1 and I6 judge the engine's safe-state claims, which have known defects on clean runs:
    the stored regressions hold those.)
    """
    played = play(
        {"procedure": procedure, "seed": 0, "leak_factor": 1.0, "faults": []}, tmp_path, keys.key_dir
    )
    assert played.outcome is not None and len(played.truth.times) > 100
    found = [v for v in check_all(played, keys.hex) if v.invariant not in ("I1", "I6")]
    assert not found, found


def test_the_oracle_sees_each_planted_defect(keys: Keys, tmp_path: Path) -> None:
    """A clean, confirmed PASS, then one defect planted at a time: each invariant must see its own."""
    played = play({"procedure": "pressure_decay", "seed": 3, "faults": []}, tmp_path, keys.key_dir)
    results_path = played.run_dir / "results.json"
    results = json.loads(results_path.read_text())
    assert results["verdict"] == "PASS" and results["safe_state_confirmed"]
    assert not check_all(played, keys.hex)

    # I1: the supply valve opens behind the controller's back as it claims the safe state.
    claim = played.truth.claim()
    assert claim is not None
    opened = replace(claim, valves={**claim.valves, "supply": True})
    bad = replace(played, truth=replace(played.truth, safe_state=[opened]))
    found = i1_safe_claim(bad, results)
    assert found is not None and "supply open" in found.message

    # I2: the article valve (the decay's boundary) physically open in the middle of the window.
    k = played.truth.valves.index("article")
    start, end = results["measurements"]["decay"]["window_s"]
    physical = [
        tuple(not s if j == k and (start + end) / 2 <= t <= end else s for j, s in enumerate(states))
        for t, states in zip(played.truth.times, played.truth.physical, strict=True)
    ]
    found = i2_pass_measurements(replace(played, truth=replace(played.truth, physical=physical)), results)
    assert found is not None and found.signature == "I2 valve article"
    # ...and a zero shift of p_article starting inside the window.
    shifted = {"kind": "zero_shift", "instrument": "gauges", "channel": 2, "magnitude": 200.0}
    armed = [{"index": 0, "kind": "zero_shift", "at_s": (start + end) / 2, "fault": shifted}]
    found = i2_pass_measurements(replace(played, truth=replace(played.truth, armed=armed)), results)
    assert found is not None and "zero" in found.message

    # I6: refused although the physics is safe and no fault was active.
    outside = claim.pressures_pa["atmosphere"]
    refused = replace(
        claim,
        message="safe state NOT confirmed: p_chamber stalled",
        pressures_pa={v: outside for v in claim.pressures_pa},
    )
    found = i6_no_false_alarm(
        replace(played, truth=replace(played.truth, safe_state=[refused])),
        {**results, "safe_state_confirmed": False},
    )
    assert found is not None

    # I5: one sample row lost, then one cell blanked; I3 and I4: results.json altered.
    samples = played.run_dir / "samples.csv"
    rows = list(csv.reader(samples.open()))
    kept = samples.read_text()
    with samples.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows[:50] + rows[51:])
    assert {v.invariant for v in check_all(played, keys.hex)} == {"I4", "I5"}
    rows[50][rows[0].index("t_article")] = ""
    with samples.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    assert any(v.signature == "I5 empty cell t_article" for v in check_all(played, keys.hex))
    samples.write_text(kept)
    results_path.write_text(json.dumps({**results, "verdict": "FAIL"}))
    assert {v.invariant for v in check_all(played, keys.hex)} == {"I3", "I4"}


def test_shrinking_is_deterministic_and_keeps_only_what_fails() -> None:
    """With a known cause (a seized supply valve), the shrinker drops the rest and coarsens what stays."""
    scenario = {
        "procedure": "pressure_decay",
        "seed": 517,
        "leak_factor": 3.7,
        "faults": [
            {"kind": "timeout", "instrument": "gauges", "at": "cleanup", "offset_s": 4.2, "duration_s": 12.5},
            {"kind": "stuck_valve", "instrument": "daq", "channel": 201, "at": "start", "offset_s": 37.3},
            {"kind": "stop", "at": "step:decay#1", "offset_s": 61.7, "presses": 2, "gap_s": 3.3},
        ],
    }

    def fails(s: dict[str, Any]) -> Violation | None:
        seized = any(f["kind"] == "stuck_valve" and f["offset_s"] < 100.0 for f in s["faults"])
        return Violation("I1", "supply open", "I1 supply") if seized else None

    first = shrink(scenario, fails)
    assert first == shrink(scenario, fails)
    small, found, _ = first
    assert found is not None
    assert small == {
        "procedure": "pressure_decay",
        "seed": 0,
        "leak_factor": 1.0,
        "faults": [
            {"kind": "stuck_valve", "instrument": "daq", "channel": 201, "at": "start", "offset_s": 0.0}
        ],
    }
    assert all(fails(c) is None for c in candidates(small) if measure(c) < measure(small))


def test_scenarios_are_small_json_and_cover_every_kind_and_moment(tmp_path: Path) -> None:
    assert campaign(SEED, 40) == campaign(SEED, 40)
    drawn = [draw(random.Random(n)) for n in range(300)]
    assert all(json.loads(json.dumps(s)) == s for s in drawn)
    faults = [f for s in drawn for f in s["faults"]]
    assert {f["kind"] for f in faults} == set(KINDS) | {"stop"}
    assert {f["at"].split(":")[0] for f in faults} == {"start", "step", "cleanup", "safe_state"}
    assert {s["procedure"] for s in drawn} == set(LEAK_RANGES)
    assert {len(s["faults"]) for s in drawn} == {1, 2, 3}
    # The leak is resized in the bench (and in the operator's repair of it), nothing else.
    bench = yaml.safe_load(
        bench_file({"procedure": "seal_repair_certification", "leak_factor": 4.0}, tmp_path).read_text()
    )
    shipped = yaml.safe_load(info("seal_repair_certification").bench.read_text())
    assert bench["physics"]["leaks"][0]["diameter"] == "10 um"
    assert bench["physics"]["actions"]["repair_seal"] == [{"leak": "seal", "diameter": "2 um"}]
    bench["physics"]["leaks"][0]["diameter"], bench["physics"]["actions"] = (
        "5 um",
        shipped["physics"]["actions"],
    )
    assert bench == shipped
