"""The shipped VGC 503 bench (``procedures/benches/vgc_chamber.yaml``) as a user drives it: validate,
probe, and the pressure decay run in simulation ending with the verdict its physics implies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.commands.cli_runs import rig_run_sim_here

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
PRESSURE_DECAY = PROCEDURES / "pressure_decay.yaml"
VGC_BENCH = PROCEDURES / "benches" / "vgc_chamber.yaml"
MOCKUP = PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml"
SHIPPED_SEAL = "diameter: 5 um"
LIMIT_SCCM = 0.5


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=120, check=False
    )


def seal_variant(tmp_path: Path, diameter: str) -> Path:
    """The VGC bench with the article's seal hole at ``diameter`` (a file in ``tmp_path``)."""
    text = VGC_BENCH.read_text()
    assert text.count(SHIPPED_SEAL) == 1
    path = tmp_path / f"vgc_chamber_seal_{diameter.replace(' ', '')}.yaml"
    path.write_text(text.replace(SHIPPED_SEAL, f"diameter: {diameter}"))
    return path


def decay(tmp_path: Path, bench: Path, seed: int, *, fails: bool = False) -> dict[str, Any]:
    """``rig run pressure_decay.yaml --bench … --sim --seed … --json``: exit 0 on PASS, 1 on FAIL.

    In this process (validate and probe above go through a child, as a user types them).
    """
    data_dir = tmp_path / f"data-{bench.stem}-{seed}"
    extra = ("--bench", str(bench), "--seed", str(seed))
    return rig_run_sim_here(PRESSURE_DECAY, data_dir, *extra, code=1 if fails else 0)[0]


def test_the_pressure_decay_validates_on_the_vgc_bench() -> None:
    done = rig("validate", str(PRESSURE_DECAY), "--bench", str(VGC_BENCH))
    assert done.returncode == 0, done.stderr
    assert "bench 'vgc_chamber'" in done.stdout and "valid" in done.stdout


@pytest.mark.integration
def test_probe_reads_every_channel_through_the_simulated_vgc503() -> None:
    done = rig("instruments", "probe", "--sim", "--bench", str(VGC_BENCH), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"gauges", "daq"}
    gauges, daq = result["gauges"], result["daq"]
    assert gauges["model"] == "VGC503" and gauges["identity"].startswith("VGC503,398-483,")
    assert set(gauges["readings"]) == {"p_chamber", "p_article", "p_reference"}
    for reading in gauges["readings"].values():
        assert reading["unit"] == "Pa" and 9.0e4 < reading["value"] < 1.1e5  # at atmosphere
    for name in ("t_chamber", "t_article"):
        assert daq["readings"][name]["unit"] == "K" and 290.0 < daq["readings"][name]["value"] < 297.0


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shipped_seal_passes_and_agrees_with_the_tpg_mockup(tmp_path: Path, seed: int) -> None:
    # Same physics, same seed: what the VGC reads must give the leak rate the TPG 362 gives.
    on_vgc, on_tpg = decay(tmp_path, VGC_BENCH, seed), decay(tmp_path, MOCKUP, seed)
    assert on_vgc["verdict"] == "PASS", on_vgc["reason"]
    vgc, tpg = on_vgc["measurements"]["decay"], on_tpg["measurements"]["decay"]
    assert 0.1 < vgc["value"] < LIMIT_SCCM  # the 5 µm hole: about 0.3 sccm at 2 bar
    assert abs(vgc["value"] - tpg["value"]) <= vgc["uncertainty_k2"] + tpg["uncertainty_k2"]


@pytest.mark.integration
@pytest.mark.parametrize("seed", [4, 5])
def test_a_tight_article_passes(tmp_path: Path, seed: int) -> None:
    result = decay(tmp_path, seal_variant(tmp_path, "1 um"), seed)  # ~0.01 sccm
    assert result["verdict"] == "PASS", result["reason"]
    assert result["measurements"]["decay"]["value"] < 0.1 * LIMIT_SCCM


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 6])
def test_a_leak_well_over_the_limit_fails(tmp_path: Path, seed: int) -> None:
    result = decay(tmp_path, seal_variant(tmp_path, "12 um"), seed, fails=True)  # (12/5)² × 0.3 ≈ 1.6 sccm
    assert result["verdict"] == "FAIL", result["reason"]
    assert result["measurements"]["decay"]["value"] > 2 * LIMIT_SCCM
