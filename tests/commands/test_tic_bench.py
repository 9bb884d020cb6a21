"""The shipped Edwards TIC bench (procedures/benches/tic_chamber.yaml), as a user runs it.

``procedures/pressure_decay.yaml`` validates and runs on it unchanged; ``rig instruments probe
--sim`` reads every channel through the simulated TIC and DAQ; a simulated run ends with the
verdict the simulated truth implies: the shipped seal leaks about 0.3 sccm (a 5 µm hole at 2 bar),
under the procedure's 0.5 sccm limit, so it passes; a 12 µm hole leaks (12/5)² ≈ 5.8 times as
much, about 1.7 sccm, so it fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.cli_runs import rig_run_sim_here

ROOT = Path(__file__).resolve().parents[2]
TIC_BENCH = ROOT / "procedures" / "benches" / "tic_chamber.yaml"
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
SHIPPED_LEAK = "diameter: 5 um"
LIMIT_SCCM = 0.5


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_pressure_decay_validates_on_the_tic_bench() -> None:
    done = rig("validate", str(PRESSURE_DECAY), "--bench", str(TIC_BENCH))
    assert done.returncode == 0, done.stderr
    assert "on bench 'tic_chamber'" in done.stdout and done.stdout.strip().endswith("valid")


@pytest.mark.integration
def test_probe_reads_every_channel_through_the_simulated_tic() -> None:
    done = rig("instruments", "probe", "--bench", str(TIC_BENCH), "--sim", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"gauges", "daq"}
    gauges, daq = result["gauges"], result["daq"]
    assert gauges["model"] == "TIC" and gauges["identity"].startswith("TIC,")
    assert set(gauges["readings"]) == {"p_chamber", "p_article", "p_reference"}
    for reading in gauges["readings"].values():
        assert reading["unit"] == "Pa" and 9.0e4 < reading["value"] < 1.1e5  # at atmosphere
    assert daq["model"] == "DAQ970A"
    assert set(daq["readings"]) == {
        "t_chamber",
        "t_article",
        "dp_article",
        "supply",
        "vent",
        "pump",
        "reference",
        "article",
        "cal_leak",
    }
    for name in ("t_chamber", "t_article"):
        assert daq["readings"][name]["unit"] == "K" and 290.0 < daq["readings"][name]["value"] < 297.0


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shipped_seal_passes(tmp_path: Path, seed: int) -> None:
    result, _ = rig_run_sim_here(PRESSURE_DECAY, tmp_path, "--bench", str(TIC_BENCH), "--seed", str(seed))
    assert (result["verdict"], result["seed"]) == ("PASS", seed)
    decay = result["measurements"]["decay"]
    assert decay["unit"] == "sccm" and 0.15 < decay["value"] < LIMIT_SCCM


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2])
def test_a_leak_well_over_the_limit_fails(tmp_path: Path, seed: int) -> None:
    text = TIC_BENCH.read_text()
    assert text.count(SHIPPED_LEAK) == 1
    leaky = tmp_path / "tic_chamber_leaky.yaml"
    leaky.write_text(text.replace(SHIPPED_LEAK, "diameter: 12 um"))
    # A FAIL exits 1 (README, "Errors and exit codes").
    extra = ("--bench", str(leaky), "--seed", str(seed))
    result, _ = rig_run_sim_here(PRESSURE_DECAY, tmp_path, *extra, code=1)
    assert (result["verdict"], result["seed"]) == ("FAIL", seed)
    decay = result["measurements"]["decay"]
    assert decay["outcome"] == "FAIL" and decay["value"] > 2 * LIMIT_SCCM
