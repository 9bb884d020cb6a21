"""The certificate reads a run's steps typed, through the loader, never as raw YAML.

A measurement's plot takes its thermometer, volume and direction from the step that measured
it (``Step.measured_window``); a recorded procedure the loader no longer accepts reads as no
steps, and the plot then falls back on the bench as it always has.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from rig.record import Measurement, RunRecord
from rig.record.run_samples import RunSamples
from rig.report.certificate_plot import plot_inputs
from rig.steps.measure_decay import MeasureDecay
from rig.steps.reference_leak_check import ReferenceLeakCheck
from rig.steps.repeat import Repeat

ROOT = Path(__file__).resolve().parents[2]
BENCH = {
    "volumes": {"chamber": {"size": "50 L"}, "article": {"size": "1 L"}},
    "channels": {
        "p_chamber": {"measures": "pressure", "volume": "chamber"},
        "t_chamber": {"measures": "temperature", "volume": "chamber"},
    },
}
ON_CHAMBER = Measurement(channel="p_chamber")
SAMPLES = RunSamples(np.arange(3.0), np.array(["m", "m", "m"]), {"p_chamber": np.ones(3)})
RISE = MeasureDecay(name="rise", channel="p_chamber", volume="chamber", duration_s=60.0, direction="rise")
CHECK = ReferenceLeakCheck(
    name="standard",
    valve="cal_leak",
    channel="p_chamber",
    volume="article",
    duration_s=60.0,
    certified_rate_pa_m3_s=8e-4,
    tolerance_relative=0.1,
)


def test_the_plot_is_set_up_by_the_step_that_measured() -> None:
    steps = (Repeat(times=2, steps=(RISE,)), CHECK)
    rise = plot_inputs("rise", ON_CHAMBER, SAMPLES, steps, BENCH)
    assert rise is not None
    assert rise.direction == "rise" and rise.volume_m3 == pytest.approx(0.05)
    # No thermometer named by the step: the one on the gauge's volume, as for older records.
    assert rise.temperature_channel == "t_chamber"
    check = plot_inputs("standard", ON_CHAMBER, SAMPLES, steps, BENCH)
    assert check is not None and check.direction == "decay" and check.volume_m3 == pytest.approx(0.001)
    compensated = dataclasses.replace(RISE, temperature="t_x")
    named = plot_inputs("rise", ON_CHAMBER, SAMPLES, (compensated,), BENCH)
    assert named is not None and named.temperature_channel == "t_x"
    unknown = plot_inputs("nobody", Measurement(channel="p_chamber", volume_m3=0.002), SAMPLES, steps, BENCH)
    assert unknown is not None and unknown.direction == "decay" and unknown.volume_m3 == 0.002


def recorded(tmp_path: Path, procedure: str) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text('{"verdict": "PASS", "measurements": {}}')
    (run_dir / "procedure.yaml").write_text(procedure)
    bench = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
    (run_dir / "bench.yaml").write_text(bench.read_text())
    return run_dir


def test_a_run_is_read_back_with_its_steps_typed(tmp_path: Path) -> None:
    text = (ROOT / "procedures" / "pressure_decay.yaml").read_text()
    run = RunRecord.load(recorded(tmp_path, text))
    kinds = [s.kind for s in run.steps]
    assert kinds[:3] == ["set_valves", "set_valves", "fill"] and "measure_decay" in kinds
    decay = next(s for s in run.steps if isinstance(s, MeasureDecay))
    assert decay.temperature == "t_article" and decay.location.startswith(
        str(tmp_path / "run" / "procedure.yaml")
    )


def test_a_recorded_procedure_the_loader_refuses_reads_as_no_steps(tmp_path: Path) -> None:
    text = (
        (ROOT / "procedures" / "pressure_decay.yaml").read_text().replace("measure_decay:", "measure_dekay:")
    )
    run = RunRecord.load(recorded(tmp_path, text))
    assert run.steps == ()
    assert run.procedure["procedure"] == "pressure_decay"  # its name and description still read
