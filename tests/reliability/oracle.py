"""The physics as oracle: a generative fault campaign judged by invariants over the simulator's truth.

Each scenario (:mod:`tests.reliability.oracle_scenario`: a shipped procedure, a leak size, one
to three faults of random kinds at random moments, the cleanup and the safe state included,
operator Ctrl-C among them, a seed) is played in-process over the real stack with the truth
recorded at every sample (:mod:`tests.reliability.oracle_play`) and judged by the invariants
I1-I6 (:mod:`tests.reliability.oracle_invariants`); a sampled subset also goes through
``rig run`` in a subprocess (:mod:`tests.reliability.oracle_cli`). A violating scenario is
shrunk (:func:`shrink`) while the same violation (invariant and signature) still shows, and kept in
``oracle_regressions.json``, which ``test_oracle_campaign.py`` replays.

    python -m tests.reliability.oracle --scenarios 500 --seed 1 --jobs 2 --out rows.jsonl --shrink --record
    python -m tests.reliability.oracle --shrink --scenario '{"procedure": "pressure_decay", "seed": 14}'
    RELIABILITY_FULL=1 pytest tests/reliability/test_oracle_campaign.py   # 500 scenarios, in pytest

Measured on this machine (2 cores shared with other work, Python 3.11), wall seconds per
in-process run. Without faults: pressure_decay 1.8, rate_of_rise 3.9, reference_leak_check
2.4, seal_repair_certification 4.4, compartment_isolation 0.9. With the campaign's faults
(300 scenarios, seed 4; median / mean / max): pressure_decay 2.1 / 4.2 / 23, rate_of_rise
4.4 / 8.0 / 25, reference_leak_check 4.0 / 7.4 / 29, seal_repair_certification 4.5 / 6.8 / 29,
compartment_isolation 1.1 / 4.4 / 26. Faults abort many runs early; what costs wall time is
the drivers' timeouts (a lasting instrument fault: ~17 s at 0.2 s a timeout, up to 30 s of
failed reads before the abort; a drop of one reply in 10: ~0.1 s a sample) and one outlier of
the simulator: an ISS hatch seized open through the isolation makes every query solve stiff
physics (~0.4 s a sample: 40-280 s a run). 300 scenarios took 17 minutes with ``--jobs 2``
(500: ~30 minutes; shrinking on top, up to :data:`SHRINK_BUDGET` runs per distinct violation).
A CLI check plays the scenario twice (in-process for the fault times, then ``rig run``): 5-10 s
when no fault makes ``rig run`` wait out its 2 s driver timeouts (the only ones CI picks; such a
fault costs it minutes). The CI subset (12 scenarios, the 21 stored regressions, 3 CLI checks,
the oracle's self-tests) takes about 3 minutes: the regressions ~70 s, the scenarios ~70 s, the
rest ~45 s (20 scenarios took 3 min 50 s; 12 keep the whole suite well inside CI's 15 minutes).
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.record.integrity import load_or_create_key, public_key_hex
from tests.reliability.oracle_invariants import Violation, check_all
from tests.reliability.oracle_play import PATIENT_TIMEOUT_S, play, wall_clock_trouble
from tests.reliability.oracle_scenario import Scenario, campaign, describe

REGRESSIONS = Path(__file__).with_name("oracle_regressions.json")
SHRINK_BUDGET = 40  # runs per shrink
GRAINS_S = (600.0, 60.0, 10.0, 1.0)


@dataclass
class Judged:
    """One scenario played and judged."""

    scenario: Scenario
    verdict: str
    reason: str
    safe_state_confirmed: bool | None
    violations: list[Violation]
    wall_s: float
    sim_s: float
    timeout_s: float  # the drivers' timeout of the play judged (longer after wall-clock trouble)
    wall_clock: list[str]  # instrument trouble no fault explains, even with the longer timeout

    def row(self, suite: str, **extra: Any) -> dict[str, Any]:
        """A report line (``RELIABILITY_REPORT``, ``--out``)."""
        return {
            "suite": suite,
            **extra,
            "procedure": self.scenario["procedure"],
            "scenario": describe(self.scenario),
            "verdict": self.verdict,
            "reason": self.reason[:160],
            "safe_state_confirmed": self.safe_state_confirmed,
            "violations": ", ".join(v.invariant for v in self.violations),
            "signatures": [v.signature for v in self.violations],
            "messages": {v.invariant: v.message for v in self.violations},
            "wall_s": round(self.wall_s, 1),
            "sim_s": round(self.sim_s),
            "timeout_s": self.timeout_s,
            "wall_clock": self.wall_clock[:3],
            "json": self.scenario,
        }


class Keys:
    """A temporary signing key the campaign seals with, and trusts."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self.hex = public_key_hex(load_or_create_key(key_dir))


def judge(scenario: Scenario, keys: Keys, workdir: Path | None = None) -> Judged:
    """Play ``scenario`` and check every invariant (in ``workdir`` if given, kept; else a temp dir)."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
        where = workdir if workdir is not None else Path(tmp)
        played = play(scenario, where / "run", keys.key_dir)
        wall_s = played.wall_s
        trouble = wall_clock_trouble(played)
        if trouble:  # the servers were slower than the short timeout: play it as the CLI would
            played = play(scenario, where / "patient", keys.key_dir, PATIENT_TIMEOUT_S)
            wall_s += played.wall_s
            trouble = wall_clock_trouble(played)
        violations = check_all(played, keys.hex)
        outcome = played.outcome
        return Judged(
            scenario,
            outcome.verdict.value if outcome is not None else "RAISED",
            outcome.reason if outcome is not None else str(played.raised),
            outcome.safe_state_confirmed if outcome is not None else None,
            violations,
            wall_s,
            played.sim_s,
            played.timeout_s,
            trouble,
        )


# --- shrinking -------------------------------------------------------------------------------------------


def _grain_cost(value: float) -> int:
    """How fine a time is: 0 for zero, then by the coarsest grain it is a multiple of."""
    if value == 0.0:
        return 0
    for cost, grain in enumerate(GRAINS_S, start=1):
        if math.isclose(value / grain, round(value / grain), abs_tol=1e-9):
            return cost
    return len(GRAINS_S) + 1


def _digits(value: float) -> int:
    text = f"{abs(value):.6g}".replace(".", "").lstrip("0").rstrip("0")
    return len(text)


def measure(scenario: Scenario) -> tuple[float, ...]:
    """How complicated a scenario is; a shrink step must lower it (so shrinking ends)."""
    faults = scenario.get("faults", [])
    detail = 0
    for f in faults:
        detail += _grain_cost(float(f["offset_s"])) + f.get("presses", 1) - 1
        detail += _grain_cost(float(f["gap_s"])) if "gap_s" in f else 0
        detail += 0 if f.get("duration_s") is None else 1 + _grain_cost(float(f["duration_s"]))
        detail += _digits(float(f["magnitude"])) if "magnitude" in f else 0
    leak = 0 if float(scenario.get("leak_factor", 1.0)) == 1.0 else 1
    return (len(faults), leak, int(scenario["seed"]) > 3, detail, int(scenario["seed"]))


def _coarser(value: float) -> Iterator[float]:
    yield 0.0
    for grain in GRAINS_S:
        yield math.floor(value / grain) * grain
        yield math.ceil(value / grain) * grain


def candidates(scenario: Scenario) -> Iterator[Scenario]:
    """Simpler variants of ``scenario``, the boldest first."""
    faults = scenario.get("faults", [])

    def with_fault(i: int, **changes: Any) -> Scenario:
        changed = {k: v for k, v in {**faults[i], **changes}.items() if v is not None}
        return {**scenario, "faults": [changed if j == i else f for j, f in enumerate(faults)]}

    for i in range(len(faults)):
        yield {**scenario, "faults": faults[:i] + faults[i + 1 :]}
    yield {**scenario, "leak_factor": 1.0}
    for seed in range(4):
        yield {**scenario, "seed": seed}
    for i, f in enumerate(faults):
        if f.get("presses", 1) == 2:
            yield with_fault(i, presses=1, gap_s=None)
        if f.get("duration_s") is not None:
            yield with_fault(i, duration_s=None)
            for d in _coarser(float(f["duration_s"])):
                if d > 0.0:
                    yield with_fault(i, duration_s=d)
        for o in _coarser(float(f["offset_s"])):
            yield with_fault(i, offset_s=o)
        if "gap_s" in f:
            for g in _coarser(float(f["gap_s"])):
                if g > 0.0:
                    yield with_fault(i, gap_s=g)
        if "magnitude" in f:
            m = float(f["magnitude"])
            yield with_fault(i, magnitude=float(f"{m:.1g}"))


def shrink(
    scenario: Scenario, fails: Callable[[Scenario], Violation | None], budget: int = SHRINK_BUDGET
) -> tuple[Scenario, Violation | None, int]:
    """Shrink ``scenario`` while ``fails`` still reports its violation; (scenario, violation, runs).

    Greedy and deterministic: the first simpler candidate (by :func:`measure`) that still fails
    is taken, until none does or ``budget`` runs are spent.
    """
    current, violation, runs = scenario, fails(scenario), 1
    improved = True
    while improved and runs < budget:
        improved = False
        for candidate in candidates(current):
            if measure(candidate) >= measure(current):
                continue
            runs += 1
            found = fails(candidate)
            if found is not None:
                current, violation, improved = candidate, found, True
                break
            if runs >= budget:
                break
    return current, violation, runs


def failing(signature: str, keys: Keys) -> Callable[[Scenario], Violation | None]:
    """``scenario`` → its violation with ``signature`` (None if it has none), by playing it.

    The same signature, not merely the same invariant: shrinking a seized supply valve's false
    claim must not slide into another defect that happens to break I1 too.
    """

    def check(scenario: Scenario) -> Violation | None:
        return next((v for v in judge(scenario, keys).violations if v.signature == signature), None)

    return check


# --- the stored regressions --------------------------------------------------------------------------


def load_regressions(path: Path = REGRESSIONS) -> list[dict[str, Any]]:
    """The stored regression cases: ``name``, ``invariant``, ``signature``, ``message``, ``scenario``."""
    return list(json.loads(path.read_text())) if path.exists() else []


def record_regression(case: dict[str, Any], path: Path = REGRESSIONS) -> bool:
    """Add a shrunk failing scenario (False if that scenario, or its signature, is stored already)."""
    cases = load_regressions(path)
    if any(c["scenario"] == case["scenario"] or c["signature"] == case["signature"] for c in cases):
        return False
    cases.append(case)
    path.write_text(json.dumps(cases, indent=1) + "\n")
    return True


# --- the campaign ------------------------------------------------------------------------------------------

_KEYS: Keys | None = None


def _worker_keys() -> Keys:
    global _KEYS
    if _KEYS is None:
        _KEYS = Keys(Path(tempfile.mkdtemp(prefix="oracle-keys-")))
        atexit.register(shutil.rmtree, _KEYS.key_dir, True)
    return _KEYS


def _judge_in_worker(item: tuple[str, Scenario]) -> tuple[str, Judged]:
    return item[0], judge(item[1], _worker_keys())


def _shrink_in_worker(item: tuple[str, str, Scenario]) -> tuple[str, str, Scenario, Violation | None, int]:
    sid, signature, scenario = item
    keys = _worker_keys()
    # Judged again first: the row may come from an older run of the oracle, whose signature then
    # stands for the invariant it broke.
    now = judge(scenario, keys).violations
    same = [v for v in now if v.signature == signature] or [
        v for v in now if v.invariant == signature.split()[0]
    ]
    if not same:
        return sid, signature, scenario, None, 1
    small, violation, runs = shrink(scenario, failing(same[0].signature, keys))
    return sid, same[0].signature, small, violation, runs + 1


def in_parallel(work: Callable[[Any], Any], items: list[Any], jobs: int) -> Iterator[Any]:
    """``work`` over ``items``, ``jobs`` processes at a time, in order."""
    if jobs <= 1:
        yield from map(work, items)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(work, items)


def run_campaign(scenarios: list[tuple[str, Scenario]], jobs: int, out: Path | None) -> list[dict[str, Any]]:
    """Judge every scenario; print one line each, append its row to ``out``; return the rows."""
    rows = []
    for n, (sid, judged) in enumerate(in_parallel(_judge_in_worker, scenarios, jobs), start=1):
        flags = ", ".join(v.invariant for v in judged.violations) or "ok"
        print(
            f"[{n}/{len(scenarios)}] {sid} {judged.verdict} {flags}: {describe(judged.scenario)}", flush=True
        )
        row = judged.row("oracle campaign", id=sid)
        rows.append(row)
        if out is not None:
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    return rows


def shrink_all(rows: list[dict[str, Any]], jobs: int, record: bool) -> None:
    """Shrink the simplest scenario of each distinct violation (signature); print, and record them."""
    chosen: dict[str, tuple[str, Scenario]] = {}
    for row in rows:
        for signature in row["signatures"]:
            held = chosen.get(signature)
            if held is None or measure(row["json"]) < measure(held[1]):
                chosen[signature] = (row["id"], row["json"])
    work = [(sid, signature, scenario) for signature, (sid, scenario) in sorted(chosen.items())]
    for sid, signature, small, violation, runs in in_parallel(_shrink_in_worker, work, jobs):
        if violation is None:
            print(f"{signature}: {sid} no longer fails when replayed (not deterministic?)")
            continue
        case = {
            "name": f"{violation.invariant}-{sid}",
            "invariant": violation.invariant,
            "signature": violation.signature,
            "message": violation.message,
            "scenario": small,
        }
        print(f"shrunk {sid} ({signature}) in {runs} runs:\n  {json.dumps(small)}\n  {violation.message}")
        if record and record_regression(case):
            print(f"  recorded in {REGRESSIONS}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.reliability.oracle``: run a campaign (or one scenario), shrink, record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=150, help="how many scenarios to draw")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed")
    parser.add_argument("--start", type=int, default=0, help="resume: skip the first N scenarios drawn")
    parser.add_argument("--scenario", help="judge this one scenario (JSON) instead of drawing")
    parser.add_argument("--jobs", type=int, default=2, help="processes in parallel")
    parser.add_argument("--out", type=Path, help="append one JSON line per scenario here")
    parser.add_argument("--shrink", action="store_true", help="shrink one scenario per distinct violation")
    parser.add_argument("--shrink-from", type=Path, help="shrink the violations of a previous --out file")
    parser.add_argument("--record", action="store_true", help=f"store shrunk failures in {REGRESSIONS.name}")
    args = parser.parse_args(argv)
    if args.shrink_from:
        rows = [json.loads(line) for line in args.shrink_from.read_text().splitlines() if line.strip()]
    else:
        scenarios = (
            [("given", json.loads(args.scenario))]
            if args.scenario
            else campaign(args.seed, args.scenarios)[args.start :]
        )
        rows = run_campaign(scenarios, args.jobs, args.out)
    counts: dict[str, int] = {}
    for row in rows:
        for invariant in filter(None, row["violations"].split(", ")):
            counts[invariant] = counts.get(invariant, 0) + 1
    print(f"{len(rows)} scenarios; scenarios violating each invariant: {json.dumps(counts, sort_keys=True)}")
    if args.shrink or args.shrink_from:
        shrink_all(rows, args.jobs, args.record)
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
