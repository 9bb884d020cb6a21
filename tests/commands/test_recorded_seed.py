"""The seed a simulated run used is on its record (the bench file's default included), and repeats it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rig.report.certificate_view import load_certificate
from tests.commands.cli_runs import rig_run_sim

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"

pytestmark = pytest.mark.integration


def sim_run(data_dir: Path, *seed: str) -> tuple[dict[str, Any], Path]:
    """``rig run pressure_decay --sim [--seed N] --json``: its JSON line and run directory."""
    return rig_run_sim(PRESSURE_DECAY, data_dir, *seed)


def samples(run_dir: Path) -> list[list[str]]:
    with (run_dir / "samples.csv").open(newline="") as f:
        return list(csv.reader(f))


def values(run_dir: Path) -> dict[str, Any]:
    results = json.loads((run_dir / "results.json").read_text())
    return {name: (m["value"], m["stderr"], m["n"]) for name, m in results["measurements"].items()}


def test_the_default_seed_is_recorded_and_repeats_the_run(tmp_path: Path) -> None:
    file_seed = yaml.safe_load(MOCKUP.read_text())["physics"]["seed"]
    default, default_dir = sim_run(tmp_path)
    assert isinstance(default["seed"], int) and default["seed"] == file_seed
    assert json.loads((default_dir / "run.json").read_text())["seed"] == file_seed
    tested = {fact.label: fact.value for fact in load_certificate(default_dir).tested}
    assert any(f"(seed {file_seed})" in value for value in tested.values()), tested
    # The same seed given: the same record, sample for sample.
    same, same_dir = sim_run(tmp_path, "--seed", str(file_seed))
    assert same["seed"] == file_seed
    assert samples(same_dir) == samples(default_dir) and len(samples(default_dir)) > 100
    assert values(same_dir) == values(default_dir)
    # Another seed: other noise, another record.
    other, other_dir = sim_run(tmp_path, "--seed", str(file_seed + 1))
    assert other["seed"] == file_seed + 1
    assert json.loads((other_dir / "run.json").read_text())["seed"] == file_seed + 1
    assert samples(other_dir) != samples(default_dir)
    assert values(other_dir) != values(default_dir)
