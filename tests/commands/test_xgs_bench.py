"""The shipped XGS-600 bench (``procedures/benches/xgs_chamber.yaml``), as a user runs it.

Every pressure channel is read by the simulated XGS-600 through its driver. The real box takes
at most 10 queries a second, and the driver paces itself so; the simulated one takes any rate
and says so (``XgsServer.driver_options``), so a simulated run goes at the speed of its physics.
The runs of one test are started together.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "xgs_chamber.yaml"
PROCEDURE = ROOT / "procedures" / "pressure_decay.yaml"
TIGHT_SEAL = "diameter: 1 um, discharge_coefficient: 0.7}"
# 20 µm: about 400 times the tight seal's flow, several sccm at 2 bar against a 0.5 sccm limit: the
# article loses so much while it settles that it falls below what a tight one cools to (a gross leak,
# rig.steps.gross_leak), and the run ends FAIL there with that evidence instead of a decay measurement.
LEAKY_SEAL = "diameter: 20 um, discharge_coefficient: 0.7}"
VERDICT_EXIT = {"PASS": 0, "FAIL": 1}


def rig(*args: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=timeout_s, check=False
    )


def run_decay(bench: Path, data_dir: Path, seed: int) -> tuple[int, dict[str, Any], str]:
    """``rig run pressure_decay --bench … --sim --seed N --json``: exit code, its JSON line, stderr."""
    done = rig(
        "run",
        str(PROCEDURE),
        "--bench",
        str(bench),
        "--sim",
        "--seed",
        str(seed),
        "--data-dir",
        str(data_dir),
        "--yes",
        "--json",
        timeout_s=600.0,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {}, done.stderr


def test_the_shipped_bench_is_tight_by_default() -> None:
    assert BENCH.read_text().count(TIGHT_SEAL) == 1


def test_validate_pressure_decay_on_the_xgs_bench() -> None:
    done = rig("validate", str(PROCEDURE), "--bench", str(BENCH))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout and "xgs_chamber" in done.stdout


@pytest.mark.integration
def test_probe_reads_every_channel() -> None:
    done = rig("instruments", "probe", "--sim", "--bench", str(BENCH), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"xgs", "daq"}
    xgs = result["xgs"]
    assert xgs["model"] == "XGS600"
    # Two capacitance manometers on the analog board (slot 1), the cold-cathode gauge on slot 2.
    assert xgs["identity"].startswith("XGS600,4C3AFEFEFEFE,")
    assert set(xgs["readings"]) == {"p_article", "p_reference", "p_chamber"}
    for reading in xgs["readings"].values():
        assert reading["unit"] == "Pa" and 9.0e4 < reading["value"] < 1.1e5  # at atmosphere
    daq = result["daq"]["readings"]
    for name in ("t_chamber", "t_article"):
        assert daq[name]["unit"] == "K" and 290.0 < daq[name]["value"] < 297.0


@pytest.mark.integration
@pytest.mark.slow
def test_pressure_decay_verdicts_follow_the_simulated_seal(tmp_path: Path) -> None:
    leaky = tmp_path / "xgs_chamber_leaky.yaml"
    leaky.write_text(BENCH.read_text().replace(TIGHT_SEAL, LEAKY_SEAL))
    cases = [(BENCH, 1, "PASS"), (BENCH, 7, "PASS"), (leaky, 3, "FAIL")]
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        runs = [(bench, tmp_path / f"data{n}", seed) for n, (bench, seed, _) in enumerate(cases)]
        futures = [pool.submit(run_decay, *run) for run in runs]
        results = [future.result() for future in futures]
    for (bench, seed, verdict), (code, result, stderr) in zip(cases, results, strict=True):
        why = (bench.name, seed, stderr[-2000:])
        assert (result.get("verdict"), code) == (verdict, VERDICT_EXIT[verdict]), why
        assert result["seed"] == seed
        if verdict == "FAIL":
            assert result["reason"].startswith("gross leak: p_article fell to "), why
            found = result["gross_leak"]
            assert found["step"] == "stabilise" and found["pressure_pa"] < found["floor_pa"] < 195_000.0
            assert "decay" not in result["measurements"]
            continue
        decay = result["measurements"]["decay"]
        assert decay["outcome"] == verdict
        assert decay["value_pa_m3_s"] + decay["uncertainty_k2_pa_m3_s"] < decay["limit_pa_m3_s"]


def test_only_a_simulated_xgs_is_read_without_pacing() -> None:
    from contextlib import ExitStack

    from drivers.xgs600 import MIN_QUERY_INTERVAL_S
    from rig.bench import load_bench
    from rig.clock import VirtualClock
    from rig.engine.session import RigSession
    from rig.execution.bench_access import open_bench

    bench = load_bench(BENCH)
    with ExitStack() as stack:
        access = open_bench(bench, sim=True, clock=VirtualClock(), stack=stack, command="test")
        assert access.driver_options == {"xgs": {"min_interval_s": 0.0}, "daq": {}}
        with RigSession(bench, access.resources, options=access.driver_options) as session:
            assert session.instruments["xgs"].min_interval_s == 0.0  # type: ignore[attr-defined]
        # Opened as a real bench would be (no options), the driver keeps the manual's pace.
        with RigSession(bench, access.resources) as session:
            assert session.instruments["xgs"].min_interval_s == MIN_QUERY_INTERVAL_S  # type: ignore[attr-defined]
    assert MIN_QUERY_INTERVAL_S == 0.1
