"""The shipped flow bench and flow leak test, as a user runs them, against the simulated truth.

``procedures/benches/flow_bench.yaml``: a 1 L article fed by an Alicat MC-10SCCM from a 4 bar
line, filled through a valve from a 2 bar supply, leaking to the atmosphere through an orifice
(1 µm: a tight part). ``procedures/flow_leak_test.yaml`` holds it at 2 bar with the controller and
takes the mean make-up flow over 5 minutes against a 0.5 sccm limit. The truth is the leak
orifice's flow at 2 bar, from the bench's own physics.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.engine.session import command_safe_state
from rig.outcome import Outcome
from rig.sim.backend import ControlMode
from rig.sim.bench_physics import build_simulation
from rig.sim.flows import Orifice
from rig.sim.simulated_rig import SimulatedRig
from rig.units import R_GAS, T_TWENTY_C_K
from tests.engine.sim_runs import run, short_waits_on, variant, with_faults

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "flow_bench.yaml"
PROCEDURE = ROOT / "procedures" / "flow_leak_test.yaml"
HOLD_PA = 2e5
LIMIT_PA_M3_S = 9.062e-4  # 0.5 sccm at 0 °C, as the record reports it
SEEDS = (1, 2, 3)


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=300, check=False
    )


def rig_run(data_dir: Path, *extra: str, procedure: Path = PROCEDURE) -> tuple[int, dict[str, Any]]:
    done = rig("run", str(procedure), "--sim", *extra, "--data-dir", str(data_dir), "--yes", "--json")
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def leaky(tmp_path: Path, diameter: str = "12 um") -> Path:
    return variant(
        tmp_path, BENCH, lambda t: t.replace("diameter: 1 um", f"diameter: {diameter}"), "leaky.yaml"
    )


def true_leak_pa_m3_s(bench_path: Path) -> float:
    """The seal's leak at the held pressure, at the rig's reference temperature (20 °C)."""
    simulation = build_simulation(load_bench(bench_path), VirtualClock())
    (seal,) = [e for e in simulation.network.elements if isinstance(e, Orifice)]
    room_k = 293.15  # the article's walls stand in the room (20 °C)
    return seal.molar_flow(0.0, HOLD_PA, room_k, 101325.0, room_k) * R_GAS * T_TWENTY_C_K


def test_the_shipped_procedure_validates_on_the_shipped_bench() -> None:
    done = rig("validate", str(PROCEDURE))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_the_probe_reads_every_channel_the_flow_in_mol_s() -> None:
    done = rig("instruments", "probe", "--sim", "--bench", str(BENCH), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["mfc"]["identity"].startswith("Alicat A,")
    flow = result["mfc"]["readings"]["f_article"]
    assert flow["unit"] == "mol/s"
    # Nothing flows: the reading is the meter's zero, within 0.2 % of 10 sccm and its noise.
    assert abs(flow["value"]) < 0.05 * 6.8e-7
    assert flow["pressure_pa"] == pytest.approx(101325.0, abs=100.0)
    assert result["gauges"]["readings"]["p_article"]["value"] == pytest.approx(101325.0, abs=500.0)
    assert result["daq"]["readings"]["t_article"]["unit"] == "K"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_tight_article_passes_and_its_make_up_flow_is_its_leak(tmp_path: Path, seed: int) -> None:
    code, result = rig_run(tmp_path / "data", "--seed", str(seed))
    assert code == 0, result
    assert result["verdict"] == "PASS"
    measured = result["measurements"]["make_up"]
    truth = true_leak_pa_m3_s(BENCH)
    assert truth < 0.05 * LIMIT_PA_M3_S
    assert abs(measured["value_pa_m3_s"] - truth) <= measured["uncertainty_k2_pa_m3_s"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_leak_several_times_the_limit_fails_and_is_measured_within_its_uncertainty(
    tmp_path: Path, seed: int
) -> None:
    bench = leaky(tmp_path)
    truth = true_leak_pa_m3_s(bench)
    assert 3.0 * LIMIT_PA_M3_S < truth < 5.0 * LIMIT_PA_M3_S
    code, result = rig_run(tmp_path / "data", "--bench", str(bench), "--seed", str(seed))
    assert code == 1, result  # a FAIL verdict
    assert result["verdict"] == "FAIL"
    measured = result["measurements"]["make_up"]
    assert abs(measured["value_pa_m3_s"] - truth) <= measured["uncertainty_k2_pa_m3_s"]
    # The meter's 0.8 % of reading dominates: a few percent at k = 2, not more.
    assert measured["uncertainty_k2_pa_m3_s"] < 0.05 * truth


def test_the_safe_state_leaves_the_controller_passing_nothing(tmp_path: Path) -> None:
    done = run(tmp_path, PROCEDURE, bench=leaky(tmp_path), seed=2)
    assert done.outcome.verdict is Outcome.FAIL
    assert done.outcome.safe_state_confirmed, done.outcome.safe_state_reason
    assert done.simulation.flow_command("mfc") == (ControlMode.MASS_FLOW, 0.0)
    done.clock.advance(10.0)
    assert done.simulation.true_flow_mol_s("mfc") == 0.0
    done.safe_in_physics()
    stopped = [
        e for e in done.events() if e["kind"] == "safe_state" and "flow stopped on mfc" in e["message"]
    ]
    assert stopped


def test_an_abort_mid_measurement_stops_the_flow_and_says_why(tmp_path: Path) -> None:
    # The gauge fails while the make-up flow is sampled: the run aborts, the controller still
    # answers, and the safe state stops its flow (the step stops it first, on its way out).
    bench = with_faults(
        tmp_path, "{instrument: gauges, kind: sensor_error, at: 9 min, duration: 10 min}", source=BENCH
    )
    done = run(tmp_path, PROCEDURE, bench=bench, seed=1)
    assert done.outcome.verdict is Outcome.ABORTED
    assert "p_article" in done.outcome.reason
    # Not confirmed, for the gauge's sake only: with it down nothing shows the article vented.
    assert not done.outcome.safe_state_confirmed
    reason = done.outcome.safe_state_reason or ""
    assert "p_article" in reason and "flow not stopped" not in reason
    assert any(e["message"] == "flow stopped on mfc" for e in done.events())
    assert done.simulation.flow_command("mfc") == (ControlMode.MASS_FLOW, 0.0)
    done.clock.advance(10.0)
    assert done.simulation.true_flow_mol_s("mfc") == 0.0


def test_a_controller_that_does_not_answer_leaves_the_safe_state_not_confirmed_with_the_reason(
    tmp_path: Path,
) -> None:
    # The controller stops answering while its flow is sampled and stays silent past the abort:
    # its flow cannot be stopped, and the record says so rather than claim a safe state.
    bench = with_faults(
        tmp_path, "{instrument: mfc, kind: timeout, at: 9 min, duration: 10 min}", source=BENCH
    )
    # Its silence is waited out at each sample until it is declared faulty, and in the safe state:
    # from just before it, the controller alone is given 50 ms (a loopback reply takes well under 1).
    short = short_waits_on("mfc", 0.05, from_s=8.5 * 60)
    done = run(tmp_path, PROCEDURE, bench=bench, seed=1, prepare=short)
    assert done.outcome.verdict is Outcome.ABORTED
    assert "f_article" in done.outcome.reason
    assert not done.outcome.safe_state_confirmed
    assert "flow not stopped on mfc" in (done.outcome.safe_state_reason or "")
    # The valves are safe all the same: each part of the safe state is tried whatever the others did.
    assert not done.simulation.valve_is_open("fill") and done.simulation.valve_is_open("vent")


def test_a_safe_state_without_a_run_stops_the_flow_too(tmp_path: Path) -> None:
    bench = load_bench(BENCH)
    with SimulatedRig(bench, VirtualClock(), seed=1) as simulated:
        resources = {name: entry["resource"] for name, entry in simulated.resources().items()}
        simulated.simulation.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
        attempt = command_safe_state(bench, resources, timeout_s=1.0)
        assert attempt.commanded, attempt.reason
        assert "mfc" in attempt.reason
        assert simulated.simulation.flow_command("mfc") == (ControlMode.MASS_FLOW, 0.0)
        # A controller that does not answer: the valves are made safe all the same, and it is named.
        simulated.simulation.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
        silent = {**resources, "mfc": "TCPIP::127.0.0.1::1::SOCKET"}
        attempt = command_safe_state(bench, silent, timeout_s=0.3)
        assert not attempt.commanded
        assert "mfc" in attempt.reason and "set on daq" in attempt.reason
        assert simulated.simulation.flow_command("mfc") == (ControlMode.PRESSURE, HOLD_PA)


def test_an_article_not_let_settle_gets_no_verdict(tmp_path: Path) -> None:
    # Straight from the fill to the controller: the article, filled hot, cools and the 10 sccm
    # controller runs wide open for a quarter of an hour. Its flow is not the leak.
    text = PROCEDURE.read_text().replace("benches/flow_bench.yaml", str(BENCH))
    settling = (
        "  - set_valves: {valves: {fill: open}}\n"
        "  - wait: {duration: 10 min}\n"
        "  - set_valves: {valves: {fill: closed}}\n"
    )
    assert settling in text
    hot = tmp_path / "hot.yaml"
    hot.write_text(text.replace(settling, ""))
    code, result = rig_run(tmp_path / "data", "--seed", "1", procedure=hot)
    assert code == 4, result  # INCONCLUSIVE
    assert result["measurements"]["make_up"]["outcome"] == "INCONCLUSIVE"
    assert "not held: f_article's controller ran at its full scale" in result["reason"]


def test_a_flow_runs_certificate_carries_the_meters_accuracy(tmp_path: Path) -> None:
    code, result = rig_run(tmp_path / "data", "--seed", "1")
    assert code == 0, result
    done = rig("report", result["run_dir"])
    assert done.returncode == 0, done.stderr
    html = (Path(result["run_dir"]) / "certificate.html").read_text()
    assert "make_up:" in html and "meter accuracy" in html and "PASS" in html


def test_the_bench_address_is_the_unit_id_the_simulator_answers_on(tmp_path: Path) -> None:
    bench = variant(tmp_path, BENCH, lambda t: t.replace("address: 1}  # unit ID A", "address: 3}"), "c.yaml")
    done = rig("instruments", "probe", "--sim", "--bench", str(bench), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mfc"]["identity"].startswith("Alicat C,")
