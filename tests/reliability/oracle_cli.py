"""I3 through the command line: ``rig run --sim --json`` in a subprocess, its exit code against its verdict.

The scenario's faults go into the bench file's ``faults:`` list at the absolute times the
in-process play of the same scenario armed them (the run is deterministic on the virtual
clock, so an anchor such as "the cleanup + 4 s" lands at the same moment). Operator stops
are left to the in-process path (a SIGINT at a wall-clock moment is not reproducible), so the
CLI plays the scenario without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.engine.runner import EXIT_CODES, RunVerdict
from rig.record.integrity import KEY_DIR_ENV, describe, verify_run
from tests.engine.sim_runs import PROCEDURES, ROOT
from tests.reliability.oracle_invariants import Violation
from tests.reliability.oracle_play import Played, play
from tests.reliability.oracle_scenario import Scenario, bench_fault, bench_file

CLI_TIMEOUT_S = 900.0


def without_stops(scenario: Scenario) -> Scenario:
    """``scenario`` with its operator stops left out (the CLI plays no SIGINT)."""
    return {**scenario, "faults": [f for f in scenario.get("faults", []) if f["kind"] != "stop"]}


@dataclass
class CliCheck:
    """What the CLI did with one scenario, and the invariants it broke (I3, I4)."""

    exit_code: int
    verdict: str | None
    in_process_verdict: str | None
    violations: list[Violation]
    wall_s: float

    def row(self) -> dict[str, Any]:
        """A report line."""
        return {
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "same_verdict_as_in_process": self.verdict == self.in_process_verdict,
            "violations": ", ".join(v.invariant for v in self.violations),
            "messages": {v.invariant: v.message for v in self.violations},
            "wall_s": round(self.wall_s, 1),
        }


def check_cli(scenario: Scenario, workdir: Path, key_dir: Path, trusted_key_hex: str) -> CliCheck:
    """Play ``scenario`` (without stops) in-process for the fault times, then through ``rig run``."""
    plain = without_stops(scenario)
    played: Played = play(plain, workdir / "in-process", key_dir)
    faults = [bench_fault(a["fault"], a["at_s"]) for a in played.truth.armed]
    cli_dir = workdir / "cli"
    cli_dir.mkdir(parents=True, exist_ok=True)
    bench = bench_file(plain, cli_dir, faults)
    command = [
        sys.executable,
        "-m",
        "rig",
        "run",
        str(PROCEDURES / f"{plain['procedure']}.yaml"),
        "--bench",
        str(bench),
        "--sim",
        "--seed",
        str(plain["seed"]),
        "--data-dir",
        str(cli_dir / "data"),
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), KEY_DIR_ENV: str(key_dir)}
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT_S, check=False, cwd=cli_dir
    )
    wall_s = time.monotonic() - started
    in_process = played.outcome.verdict.value if played.outcome is not None else None
    violations: list[Violation] = []
    if "Traceback" in done.stderr:
        tail = done.stderr.strip().splitlines()[-1]
        violations.append(Violation("I3", f"rig run printed a traceback: {tail}", "I3 CLI traceback"))
    try:
        summary = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        violations.append(
            Violation("I3", f"rig run exited {done.returncode} without its JSON line", "I3 CLI no JSON line")
        )
        return CliCheck(done.returncode, None, in_process, violations, wall_s)
    verdict = summary.get("verdict")
    expected = EXIT_CODES.get(RunVerdict(verdict)) if verdict in RunVerdict.__members__ else None
    if done.returncode != expected:
        violations.append(
            Violation("I3", f"rig run said {verdict} but exited {done.returncode}", "I3 CLI exit code")
        )
    run_dir = Path(summary["run_dir"])
    results = json.loads((run_dir / "results.json").read_text())
    if results.get("verdict") != verdict:
        violations.append(
            Violation(
                "I3", f"results.json says {results.get('verdict')}, the JSON line {verdict}", "I3 CLI results"
            )
        )
    report = verify_run(run_dir, trusted_public_key_hex=trusted_key_hex)
    if not report.ok:
        violations.append(Violation("I4", f"rig verify: {'; '.join(describe(report))}", "I4 CLI record"))
    return CliCheck(done.returncode, verdict, in_process, violations, wall_s)
