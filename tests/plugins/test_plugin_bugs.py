"""A plugin's step kind with a bug: its check is one located problem, its run an abort in the safe state.

Not "internal error" (exit 70: a bug of ours), and never a traceback on the terminal: the user is
told which step, from which plugin, and the run ends as any fault does, the record saying why
(with the plugin's traceback kept for its author).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from rig.cli import main
from rig.steps import CheckContext, Step, StepContext, register_step, step_field, unregister_step
from rig.steps.fields import TIME

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"


@dataclass(frozen=True, kw_only=True)
class Buggy(Step):
    """A step whose check divides by zero when asked to, and whose run fails half-way."""

    kind: ClassVar[str] = "buggy"

    duration_s: float = step_field("duration", TIME)
    check_fails: str = step_field("check_fails", TIME, optional=True)  # type: ignore[assignment]

    def check(self, ctx: CheckContext) -> None:
        """Fails with a bug when ``check_fails`` is written."""
        if self.check_fails is not None:
            _ = 1 / 0

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration."""
        return self.duration_s, self.duration_s

    def run(self, ctx: StepContext) -> None:
        """Holds a while, then trips over a key it never had."""
        ctx.hold(self.duration_s)
        _ = {}["calibration"]


# The test module is the plugin here: not under rig.*, as an installed plugin's module is not.
Buggy.__module__ = "lab_plugin.steps"


@pytest.fixture
def buggy() -> Iterator[None]:
    register_step(Buggy)
    try:
        yield
    finally:
        unregister_step("buggy")


def procedure(tmp_path: Path, fields: str) -> Path:
    path = tmp_path / "buggy.yaml"
    path.write_text(
        "procedure: buggy\nversion: 1\nsample_period: 1 s\n"
        "setup:\n  - set_valves: {valves: {vent: closed}}\n"
        f"main:\n  - buggy: {{{fields}}}\n"
        "cleanup:\n  - vent: {volume: chamber}\n"
    )
    return path


def test_a_plugin_check_that_raises_is_one_located_line_exit_2(
    buggy: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = procedure(tmp_path, "duration: 5 s, check_fails: 1 s")
    assert main(["validate", str(path), "--bench", str(BENCH)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{path}:7:5: the buggy step's own check failed (lab_plugin.steps): "
        "ZeroDivisionError: division by zero"
    ]


def test_a_plugin_step_that_raises_mid_run_aborts_in_the_safe_state_naming_it(
    buggy: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = procedure(tmp_path, "duration: 5 s")
    capsys.readouterr()
    code = main(
        ["run", str(path), "--bench", str(BENCH), "--sim", "--data-dir", str(tmp_path / "d"), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 3, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["verdict"] == "ABORTED"
    assert summary["reason"] == "step buggy (buggy, from lab_plugin.steps) failed: KeyError('calibration')"
    assert "Traceback" not in err
    run_dir = Path(summary["run_dir"])
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    (fault,) = [e for e in events if e["kind"] == "fault" and "lab_plugin" in e["message"]]
    assert "KeyError" in fault["traceback"]
    outcome = json.loads((run_dir / "results.json").read_text())
    assert outcome["safe_state_confirmed"] is True, outcome
