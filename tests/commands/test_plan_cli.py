"""``rig plan`` as a user runs it: the JSON interface, the summary, the checks and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rig.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
SEAL = str(PROCEDURES / "seal_repair_certification.yaml")
DECAY = str(PROCEDURES / "pressure_decay.yaml")
MOCKUP = str(PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml")
SCCM = 1.81240000915248e-3  # 1 sccm (0 °C) as pV throughput at 293.15 K, Pa·m³/s


def plan_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    assert main(["plan", *args, "--json"]) == code
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def test_the_interface_as_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rig", "plan", SEAL, "--limit", "0.1 sccm", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["method"] == "analytic"
    assert result["measurement"] == "after_repair"
    assert isinstance(result["duration_s"], float) and 0.0 < result["duration_s"] < 1800.0
    assert result["expected_basis"] == "half the limit"
    assert result["expected_sccm"] == pytest.approx(0.05)
    assert result["limit_pa_m3_s"] == pytest.approx(0.1 * SCCM)
    assert result["e2930"]["met"] is True
    assert set(result["budget"]) == {
        "fit",
        "resolution",
        "volume",
        "gauge_calibration",
        "temperature",
        "zero_drift",
    }
    assert result["procedure_duration_decisive"] is True
    assert result["monte_carlo"] is None and result["simulation"] is None


def test_monte_carlo_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    result = plan_json(
        capsys, SEAL, "--limit", "0.1 sccm", "--expected", "0.08 sccm", "--power", "0.95",
        "--monte-carlo", "60", "--seed", "4",
    )  # fmt: skip
    assert result["method"] == "analytic+monte-carlo"
    assert result["expected_basis"] == "--expected" and result["power"] == 0.95
    mc = result["monte_carlo"]
    assert mc["draws"] == 60 and mc["seed"] == 4 and mc["expected_outcome"] == "PASS"
    assert mc["decisive"] == mc["outcomes"].get("PASS", 0) and mc["fraction"] >= 0.9
    assert mc["rate_mean_pa_m3_s"] == pytest.approx(0.08 * SCCM, rel=0.05)
    # A leak nearer the limit takes longer to decide.
    nearer = plan_json(capsys, SEAL, "--limit", "0.1 sccm", "--expected", "0.09 sccm")
    assert nearer["duration_s"] > result["duration_s"]


def test_the_limit_defaults_to_the_measurements_own(capsys: pytest.CaptureFixture[str]) -> None:
    result = plan_json(capsys, DECAY)
    assert result["limit_sccm"] == pytest.approx(0.5) and result["measurement"] == "decay"


def test_simulation_runs_the_procedure_at_the_planned_duration(capsys: pytest.CaptureFixture[str]) -> None:
    result = plan_json(capsys, DECAY, "--limit", "0.5 sccm", "--simulate", "1", "--seed", "5")
    assert result["method"] == "analytic+simulation"
    sim = result["simulation"]
    assert sim["runs"] == 1 and sim["seeds"] == [5]
    assert sim["outcomes"] == ["PASS"] and sim["decisive"] == 1
    # The bench's seal leaks 5e-4 Pa·m³/s, not the planned half limit: the rate measured is reported.
    assert sim["rates_pa_m3_s"][0] == pytest.approx(5e-4, rel=0.15)


def test_the_simulated_runs_are_judged_against_the_limit_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bench's seal leaks 5e-4 Pa·m³/s (0.28 sccm). The procedure's own limit is 0.5 sccm: asked
    # for 0.1 sccm, the leak is 2.8 times the limit and no run may pass.
    above = plan_json(capsys, DECAY, "--limit", "0.1 sccm", "--simulate", "2", "--seed", "5")
    sim = above["simulation"]
    assert sim["limit_pa_m3_s"] == pytest.approx(0.1 * SCCM)
    assert sim["rates_pa_m3_s"] == [pytest.approx(5e-4, rel=0.15)] * 2
    assert sim["outcomes"] == ["FAIL", "FAIL"] and sim["verdicts"] == ["FAIL", "FAIL"]
    assert sim["decisive"] == 2
    # The other way round: a procedure whose own limit (0.1 sccm) the leak fails, asked for 1 sccm.
    text = Path(DECAY).read_text()
    assert text.count("duration: 10 min, limit: 0.5 sccm}") == 1
    (tmp_path / "decay.yaml").write_text(text.replace("limit: 0.5 sccm}", "limit: 0.1 sccm}"))
    below = plan_json(
        capsys, str(tmp_path / "decay.yaml"), "--bench", MOCKUP, "--limit", "1 sccm", "--simulate", "2",
        "--seed", "5",
    )  # fmt: skip
    sim = below["simulation"]
    assert sim["limit_pa_m3_s"] == pytest.approx(SCCM)
    assert sim["outcomes"] == ["PASS", "PASS"] and sim["verdicts"] == ["PASS", "PASS"]


def test_the_human_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SEAL, "--limit", "0.1 sccm", "--monte-carlo", "20"]) == 0
    out = capsys.readouterr().out
    assert "after_repair" in out and "0:09:" in out and "budget at" in out and "E2930" in out
    assert "Monte Carlo: 20/20 PASS" in out


def test_nothing_can_decide_exits_1_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without its thermometer the 2 bar decay must allow 0.5 K/h of unmeasured drift: 5.5e-5 Pa·m³/s.
    text = (
        Path(SEAL)
        .read_text()
        .replace(
            "name: after_repair, channel: p_article, temperature: t_article,",
            "name: after_repair, channel: p_article,",
        )
    )
    assert "temperature: t_article, volume: article, duration: 30 min" not in text
    (tmp_path / "seal.yaml").write_text(text)
    result = plan_json(capsys, str(tmp_path / "seal.yaml"), "--bench", MOCKUP, "--limit", "0.1 sccm", code=1)
    assert result["duration_s"] is None and "drift" in result["reason"]
    assert main(["plan", str(tmp_path / "seal.yaml"), "--bench", MOCKUP, "--limit", "0.1 sccm"]) == 1
    assert "no test up to" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((SEAL, "--limit", "0.1 parsecs"), "--limit"),
        ((SEAL, "--limit", "-0.1 sccm"), "positive"),
        ((SEAL, "--limit", "0.1 sccm", "--expected", "1 bar"), "--expected"),
        ((SEAL, "--limit", "0.1 sccm", "--power", "1.5"), "power"),
        ((SEAL, "--limit", "0.1 sccm", "--measurement", "nonesuch"), "after_repair"),
        ((SEAL, "--measurement", "before_repair"), "no limit"),
        ((str(PROCEDURES / "reference_leak_check.yaml"), "--limit", "0.1 sccm"), "no measure_decay"),
        ((SEAL, "--limit", "0.1 sccm", "--monte-carlo", "0"), "--monte-carlo"),
    ],
)
def test_invalid_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert main(["plan", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rig plan: error:") and message in lines[0]


def test_an_invalid_procedure_is_reported_by_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(Path(DECAY).read_text().replace("duration: 10 min", "duration: 10 parsecs"))
    assert main(["plan", str(path), "--bench", MOCKUP, "--limit", "0.5 sccm"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith(f"{path}:") for line in err)
