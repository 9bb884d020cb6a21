"""``rig instruments probe`` against the simulated mockup, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.integration
def test_probe_the_simulated_mockup() -> None:
    done = rig("instruments", "probe", "--bench", str(MOCKUP), "--sim", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"gauges", "daq", "baratron"}
    gauges, daq, baratron = result["gauges"], result["daq"], result["baratron"]
    assert gauges["model"] == "TPG362" and "TPG362" in gauges["identity"]
    assert baratron["model"] == "MKS937B"
    assert daq["model"] == "DAQ970A" and "DAQ970A" in daq["identity"]
    for name in ("p_chamber", "p_article"):
        reading = gauges["readings"][name]
        assert reading["unit"] == "Pa" and 9.0e4 < reading["value"] < 1.1e5  # at atmosphere
    assert baratron["readings"]["p_reference"]["unit"] == "Pa"
    assert 9.0e4 < baratron["readings"]["p_reference"]["value"] < 1.1e5
    for name in ("t_chamber", "t_article"):
        assert daq["readings"][name]["unit"] == "K" and 290.0 < daq["readings"][name]["value"] < 297.0
    for valve in ("supply", "vent", "pump", "reference", "article"):
        assert daq["readings"][valve] == {"value": "closed", "unit": "state"}


def test_probe_without_resources_or_sim_is_refused(tmp_path: Path) -> None:
    done = rig("instruments", "probe", "--bench", str(MOCKUP), "--json")
    assert done.returncode == 2
    assert "has no resource" in done.stderr


@pytest.mark.integration
def test_an_instrument_that_does_not_answer_is_shown_and_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from rig.cli import main
    from rig.sim.backend import StaticDaq
    from rig.sim.servers.daq import DaqServer
    from tests.commands.test_run_errors import BENCH
    from tests.listening import nobody_listening

    gauges = nobody_listening()
    with DaqServer(StaticDaq()) as daq:
        (tmp_path / "bench.yaml").write_text(BENCH.format(gauges=gauges, daq=daq.resource))
        for as_json in (True, False):
            code = main(
                ["instruments", "probe", "--bench", str(tmp_path / "bench.yaml"), "--timeout", "0.5"]
                + (["--json"] if as_json else [])
            )
            out, err = capsys.readouterr()
            assert code == 3
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(
                "rig instruments: 1 of 2 instrument(s) did not answer: gauges: "
            )
            assert gauges in lines[0]
            if as_json:
                result = json.loads(out)
                assert result["gauges"]["identity"] is None and gauges in result["gauges"]["error"]
                assert "DAQ970A" in result["daq"]["identity"]  # the one that answers is probed all the same
                assert result["daq"]["readings"]["vent"] == {"value": "closed", "unit": "state"}
            else:
                assert "error:" in out and "DAQ970A" in out


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf"])
def test_a_timeout_that_is_not_positive_is_refused(capsys: pytest.CaptureFixture[str], timeout: str) -> None:
    from rig.cli import main

    assert main(["instruments", "probe", "--bench", str(MOCKUP), "--sim", "--timeout", timeout]) == 2
    assert capsys.readouterr().err.startswith("rig instruments: error: --timeout must be a positive number")
