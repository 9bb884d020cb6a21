"""A step kind defined here, in a test module alone, is validated, planned and run like ours.

``Dwell`` is what a lab's plugin would ship: a frozen dataclass with a ``kind``, its fields
declared, its own check, planned duration and execution. Registered with
:func:`rig.steps.register_step` (as an entry point would do it), a procedure using it
validates with located problems, runs through ``rig run --sim`` in process, and its samples,
events and measurement are in the record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from rig.bench import BenchSpec
from rig.cli import main
from rig.engine.calibration import relied_on
from rig.outcome import Outcome
from rig.procedure.loader import load_procedure
from rig.record import Measurement
from rig.steps import CheckContext, Step, StepContext, register_step, step_field, step_kinds, unregister_step
from rig.steps.fields import CHANNEL_REF, PRESSURE, TEXT, TIME

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"


@dataclass(frozen=True, kw_only=True)
class Dwell(Step):
    """Hold for ``duration_s`` and measure the lowest pressure ``channel`` read; PASS if it stayed above."""

    kind: ClassVar[str] = "dwell"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    channel: str = step_field("channel", CHANNEL_REF)
    duration_s: float = step_field("duration", TIME)
    above_pa: float = step_field("above", PRESSURE)

    def check(self, ctx: CheckContext) -> None:
        """A floor the interlock would trip below before the dwell could show it is refused."""
        if ctx.bench is not None and ctx.has("above_pa") and self.above_pa >= ctx.bench.max_pressure_pa:
            ctx.refuse("above_pa", f"a floor of {self.above_pa:g} Pa is above the bench's max_pressure")

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration."""
        return self.duration_s, self.duration_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its channel: the one whose samples it looks back at."""
        return (self.channel,)

    def run(self, ctx: StepContext) -> None:
        """Hold, then judge the lowest reading of this step's own samples."""
        ctx.event("dwell", f"dwelling on {self.channel} for {self.duration_s:g} s")
        ctx.hold(self.duration_s)
        values = ctx.series.values(self.channel)
        readings = values[~np.isnan(values)]
        lowest = float(readings.min())
        outcome = Outcome.PASS if lowest > self.above_pa else Outcome.FAIL
        # A plugin's measurement states its own unit, and keeps fields of its own in ``extra``.
        samples = {"samples": len(readings)}
        measured = Measurement(value_pa_m3_s=lowest, unit="Pa", outcome=outcome, extra=samples)
        ctx.record(self.name, measured)


@pytest.fixture
def dwell() -> Iterator[type[Dwell]]:
    """``Dwell`` registered for one test (the registry is the process's: leave it as found)."""
    register_step(Dwell)
    try:
        yield Dwell
    finally:
        unregister_step("dwell")


def procedure(tmp_path: Path, dwell_fields: str) -> Path:
    path = tmp_path / "dwell.yaml"
    path.write_text(
        "procedure: dwell_test\nversion: 1\nsample_period: 1 s\n"
        "setup:\n  - set_valves: {valves: {vent: closed}}\n"
        f"main:\n  - dwell: {{{dwell_fields}}}\n"
        "cleanup:\n  - vent: {volume: chamber}\n"
    )
    return path


GOOD = "name: hold_chamber, channel: p_chamber, duration: 40 s, above: 90 kPa"


def run_sim(path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["run", str(path), "--bench", str(BENCH), "--sim", "--data-dir", str(data), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out.strip().splitlines()[-1])


def test_a_step_kind_from_a_test_module_validates_and_runs_in_simulation(
    dwell: type[Dwell], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = procedure(tmp_path, GOOD)
    loaded = load_procedure(path, BENCH)
    (step,) = loaded.main
    assert step == Dwell(
        name="hold_chamber", channel="p_chamber", duration_s=40.0, above_pa=90e3, location=f"{path}:7:5"
    )
    # What the calibration check reads: the channel its declared field names.
    assert relied_on(loaded) == (["p_chamber"], [])

    assert main(["validate", str(path), "--bench", str(BENCH)]) == 0
    # Planned like ours: its 40 s and the vent's minute are the procedure's longest duration.
    assert "3 steps (3 executed, at most 1.667 min)" in capsys.readouterr().out

    code, summary = run_sim(path, tmp_path / "data", capsys)
    assert code == 0, summary
    assert summary["verdict"] == "PASS"
    measured = summary["measurements"]
    assert isinstance(measured, dict) and measured["hold_chamber"]["outcome"] == "PASS"
    run_dir = Path(str(summary["run_dir"]))

    # Its samples are in the record, under its name, for its duration.
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    start = next(e["t"] for e in events if e["kind"] == "step" and e["message"] == f"dwell at {path}:7:5")
    # From the step's start: its first reading is the instant's, recorded (and labelled) by the
    # step before if that one sampled at the same instant.
    with (run_dir / "samples.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if float(r["time"]) >= start and r["step"] != "cleanup"]
    rows = rows[: next((i for i, r in enumerate(rows) if i and r["step"] != "hold_chamber"), len(rows))]
    assert 40 <= len(rows) <= 42
    assert all(float(r["p_chamber"]) > 90e3 for r in rows)
    results = json.loads((run_dir / "results.json").read_text())
    entry = results["measurements"]["hold_chamber"]
    assert entry["samples"] == len(rows)
    assert entry["value"] == pytest.approx(min(float(r["p_chamber"]) for r in rows))
    messages = [(e["kind"], e["message"]) for e in events]
    assert ("step", f"dwell at {path}:7:5") in messages
    assert ("dwell", "dwelling on p_chamber for 40 s") in messages


def test_the_step_kind_judges_what_it_measured(
    dwell: type[Dwell], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = procedure(tmp_path, "name: hold_chamber, channel: p_chamber, duration: 10 s, above: 2 bar")
    code, summary = run_sim(path, tmp_path / "data", capsys)
    assert code == 1, summary
    assert summary["verdict"] == "FAIL" and summary["reason"] == "failed: hold_chamber"


@pytest.mark.parametrize(
    ("fields", "marker", "fragment"),
    [
        # Its own check, located at the field.
        (
            "name: d, channel: p_chamber, duration: 40 s, above: 5 bar",
            "5 bar",
            "is above the bench's max_pressure",
        ),
        # Its declared fields, read like every step's.
        ("name: d, channel: p_chamber, duration: -4 s, above: 1 bar", "-4 s", "time must be positive"),
        (
            "name: d, channel: p_nowhere, duration: 4 s, above: 1 bar",
            "p_nowhere",
            "unknown channel 'p_nowhere'",
        ),
        ("name: d, channel: p_chamber, duration: 4 s", "{", "missing key 'above'"),
        (
            "name: d, channel: p_chamber, duration: 4 s, above: 1 bar, color: red",
            "color",
            "unknown key 'color' (expected one of: above, channel, duration, name)",
        ),
        # And held to the same bounds.
        (
            "name: d, channel: p_chamber, duration: 100 days, above: 1 bar",
            "100 days",
            "this dwell may take 100 days",
        ),
    ],
)
def test_a_step_kind_from_a_test_module_is_validated_with_located_problems(
    dwell: type[Dwell],
    fields: str,
    marker: str,
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = procedure(tmp_path, fields)
    line = path.read_text().splitlines()[6]
    where = f"7:{line.index(marker) + 1}"  # each problem stands where ``marker`` starts
    assert main(["validate", str(path), "--bench", str(BENCH)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:{where}: ") and fragment in lines[0], lines[0]


def test_an_unregistered_kind_is_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register_step(Dwell)
    unregister_step("dwell")
    assert "dwell" not in step_kinds()
    path = procedure(tmp_path, GOOD)
    assert main(["validate", str(path), "--bench", str(BENCH)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:7:5: unknown step 'dwell' (steps: compare, compartment_isolation, fill" in err
