"""The procedure as planned for the simulated bench: its measurement's length and limit, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.errors import InputError
from rig.planning import as_planned, simulation_check
from rig.procedure.loader import load_procedure

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
SCCM = 1.81240000915248e-3  # 1 sccm (0 °C) as pV throughput at 293.15 K, Pa·m³/s


def test_as_planned_changes_only_the_named_measurement() -> None:
    seal = load_procedure(PROCEDURES / "seal_repair_certification.yaml")
    edited = as_planned(seal, "after_repair", 558.0, 0.3 * SCCM)
    steps = {s.fields["name"]: s.fields for s in edited.main if s.kind == "measure_decay"}
    assert steps["before_repair"]["duration"] == 1200.0 and "limit" not in steps["before_repair"]
    assert steps["after_repair"]["duration"] == 558.0
    assert steps["after_repair"]["limit"] == 0.3 * SCCM
    original = {s.fields["name"]: s.fields for s in seal.main if s.kind == "measure_decay"}
    # The original is untouched.
    assert original["after_repair"]["duration"] == 1800.0
    assert original["after_repair"]["limit"] == pytest.approx(0.1 * SCCM)
    assert [s.kind for s in edited.main] == [s.kind for s in seal.main]


def test_a_bench_without_physics_cannot_be_simulated(tmp_path: Path) -> None:
    bench = (ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml").read_text()
    assert "\nphysics:" in bench
    (tmp_path / "bench.yaml").write_text(bench.split("\nphysics:")[0] + "\n")
    text = (PROCEDURES / "pressure_decay.yaml").read_text()
    (tmp_path / "decay.yaml").write_text(text.replace("benches/vacuum_chamber_mockup.yaml", "bench.yaml"))
    procedure = load_procedure(tmp_path / "decay.yaml")
    with pytest.raises(InputError, match="no physics"):
        simulation_check(procedure, "decay", 60.0, 0.5 * SCCM, 1)
