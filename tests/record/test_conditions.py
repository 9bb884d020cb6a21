"""Test conditions in results.json: measured test pressure, gas, times, temperature span per measurement.

A simulated run of the shipped pressure decay must state, for its measurement, the pressure
its gauge read at the first and last samples of the window (as samples.csv has them), the
fill, stabilisation and test times as the step events have them, the thermometer's span, the
gas and the unit the procedure wrote its limit in; the ISS procedure's limit reads lb/day. A
hand-made run directory pins the rules one by one (a differential head's test pressure is its
volume's gauge, a pump-down is the fill of a rate of rise, a declared gas is the gas), and a
run directory without the run's files gains nothing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rig.cli import main
from rig.errors import InputError
from rig.procedure.loader import load_procedure
from rig.record import Measurement, RunRecord
from rig.record.conditions import with_conditions, written_limits
from rig.record.measurement import CONDITION_KEYS, TestConditions
from rig.record.results import RESULTS, write_results
from tests.engine.sim_runs import ISS, MOCKUP, PROCEDURES


def rig_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], procedure: str, *extra: str) -> Path:
    """``rig run PROCEDURE --sim --json`` in-process (as a user runs it: the run keeps its procedure)."""
    argv = ["run", str(PROCEDURES / f"{procedure}.yaml"), "--sim", "--data-dir", str(tmp_path), "--json"]
    main([*argv, *extra])
    return Path(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_dir"])


def _samples(run_dir: Path) -> tuple[list[str], list[list[str]]]:
    with (run_dir / "samples.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _step_events(run_dir: Path) -> list[dict[str, object]]:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [e for e in events if e["kind"] == "step"]


@pytest.mark.integration
def test_a_simulated_pressure_decay_records_the_conditions_it_was_tested_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = rig_run(tmp_path, capsys, "pressure_decay")
    entry = json.loads((run_dir / RESULTS).read_text())["measurements"]["decay"]
    assert {"test_pressure_start_pa", "test_pressure_end_pa", "gas"} <= entry.keys()
    assert entry["gas"] == "air" and entry["written_unit"] == "sccm"
    # The pressures are the gauge's own first and last finite samples inside the window.
    header, rows = _samples(run_dir)
    column = header.index("p_article")
    w0, w1 = entry["window_s"]
    inside = [float(r[column]) for r in rows if w0 <= float(r[0]) <= w1 and r[column]]
    assert entry["test_pressure_start_pa"] == inside[0] and entry["test_pressure_end_pa"] == inside[-1]
    # Filled to 2 bar ± 50 mbar, cooled since: a decay at about 1.8 bar, falling.
    assert 150e3 < entry["test_pressure_end_pa"] < entry["test_pressure_start_pa"] < 205e3
    # The times are the step events': the fill's own length, then until the window, then the window.
    steps = _step_events(run_dir)
    fill = next(i for i, e in enumerate(steps) if str(e["message"]).startswith("fill at"))
    fill_start, fill_end = float(steps[fill]["t"]), float(steps[fill + 1]["t"])  # type: ignore[arg-type]
    assert entry["fill_step"] == "fill" and entry["fill_s"] == pytest.approx(fill_end - fill_start)
    assert entry["stabilisation_s"] == pytest.approx(w0 - fill_end) and entry["stabilisation_s"] > 0
    assert entry["test_s"] == pytest.approx(w1 - w0) == pytest.approx(600.0, abs=1.0)
    thermometer = header.index("t_article")
    temps = [float(r[thermometer]) for r in rows if w0 <= float(r[0]) <= w1 and r[thermometer]]
    assert entry["temperature_channel"] == "t_article"
    assert (entry["temperature_min_k"], entry["temperature_max_k"]) == (min(temps), max(temps))
    # Read back typed, the same conditions; the engine's record of it reads whole.
    measured = RunRecord.load(run_dir).measurements["decay"]
    assert measured.conditions is not None and measured.conditions.gas == "air"
    assert measured.conditions.test_pressure_start_pa == entry["test_pressure_start_pa"]
    assert measured.written_unit == "sccm"


@pytest.mark.integration
def test_the_iss_segment_search_states_its_limits_in_lb_per_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measured = RunRecord.load(
        rig_run(tmp_path, capsys, "compartment_isolation", "--bench", str(ISS))
    ).measurements
    assert measured and all(m.written_unit == "lb/day" for m in measured.values())
    prk = measured["isolation.prk"]
    assert prk.conditions is not None and prk.conditions.gas == "air"
    # A cabin at about one atmosphere, held by its hatches: no fill before the watch.
    start = prk.conditions.test_pressure_start_pa
    assert start is not None and 90e3 < start < 110e3 and prk.conditions.fill_s is None


def test_a_measurement_with_conditions_reads_back_as_written() -> None:
    conditions = TestConditions(
        test_pressure_start_pa=183420.0, test_pressure_end_pa=183120.0, gas="nitrogen", fill_step="fill",
        fill_s=172.0, stabilisation_s=779.0, test_s=600.0, temperature_channel="t_article",
        temperature_min_k=292.947, temperature_max_k=293.008,
    )  # fmt: skip
    measured = Measurement(name="decay", value_pa_m3_s=5e-4, written_unit="lb/day", conditions=conditions)
    entry = measured.to_json()
    assert set(CONDITION_KEYS) <= entry.keys() and entry["written_unit"] == "lb/day"
    assert Measurement.from_json("decay", entry) == measured
    # An older record states none: no conditions, not empty ones.
    assert Measurement.from_json("decay", {"value": 5e-4}).conditions is None


def _hand_made_run(run_dir: Path, procedure: str, bench: str, rows: list[str], events: list[str]) -> None:
    run_dir.mkdir()
    (run_dir / "procedure.yaml").write_text(procedure)
    (run_dir / "bench.yaml").write_text(bench)
    (run_dir / "samples.csv").write_text("\n".join(rows) + "\n")
    (run_dir / "events.jsonl").write_text("\n".join(events) + "\n")


BENCH = """\
channels:
  p_article: {measures: pressure, volume: article}
  p_chamber: {measures: pressure, volume: chamber}
  t_article: {measures: temperature, volume: article}
  dp_article: {measures: differential_pressure, volumes: [article, reference]}
"""


def _event(t: float, kind: str) -> str:
    return json.dumps({"t": t, "kind": "step", "message": f"{kind} at p.yaml:1:1", "step": kind})


def test_each_rule_on_a_hand_made_run(tmp_path: Path) -> None:
    procedure = "procedure: p\ngas: nitrogen\nmain:\n  - {measure_differential: {limit: 5e-3 mbar*L/s}}\n"
    rows = ["time,step,p_article,p_chamber,t_article,dp_article"]
    rows += [f"{t},x,{200000 - t},{50 - t / 10},{293 + t / 1000},{-t / 100}" for t in range(0, 31)]
    rows[12] = "11,x,,48.9,,"  # the article's gauge drops out at the window's first sample
    events = [_event(0, "pump_down"), _event(5, "set_valves"), _event(8, "wait"), _event(11, "measure")]
    _hand_made_run(tmp_path / "run", procedure, BENCH, rows, events)
    limit = written_limits({"main": [{"x": {"limit": "5e-3 mbar*L/s"}}]})[0][0]
    results = {
        "verdict": "PASS",
        "measurements": {
            "dp": {"value": 1e-4, "channel": "dp_article", "window_s": [11.0, 30.0], "limit": limit},
            "unjudged": {"value": 1e-4, "channel": "p_chamber", "window_s": [11.0, 30.0]},
            "stated": {"value": 1e-4, "gas": "helium"},
        },
    }
    write_results(tmp_path / "run", results)
    written = json.loads((tmp_path / "run" / RESULTS).read_text())["measurements"]
    dp = written["dp"]
    # A differential head reads no absolute pressure: its test side's gauge does.
    assert (dp["test_pressure_start_pa"], dp["test_pressure_end_pa"]) == (200000 - 12, 200000 - 30)
    assert dp["gas"] == "nitrogen" and dp["written_unit"] == "mbar*L/s"
    assert (dp["fill_step"], dp["fill_s"], dp["stabilisation_s"], dp["test_s"]) == ("pump_down", 5, 6, 19)
    assert dp["temperature_channel"] == "t_article" and dp["temperature_min_k"] == pytest.approx(293.012)
    # Without a limit: the one unit the procedure's limits are written in.
    assert written["unjudged"]["written_unit"] == "mbar*L/s"
    assert written["unjudged"]["test_pressure_start_pa"] == pytest.approx(50 - 1.1)
    # What a measurement states itself stays as it is.
    assert written["stated"]["gas"] == "helium"


def test_a_directory_without_the_runs_files_gains_nothing(tmp_path: Path) -> None:
    results = {"verdict": "PASS", "measurements": {"m": {"value": 1.0, "window_s": [0.0, 1.0]}}}
    assert with_conditions(tmp_path, results) == results


def test_limits_in_different_units_leave_an_unjudged_measurement_in_pa_m3_s() -> None:
    limits = written_limits({"main": [{"a": {"limit": "0.5 sccm"}}, {"b": {"limit": "0.1 lb/day"}}]})
    assert [u for _, u in limits] == ["sccm", "lb/day"]
    from rig.record.conditions import written_unit

    assert written_unit(None, limits) is None
    assert written_unit(limits[1][0], limits) == "lb/day"
    assert written_unit(1.0, limits) is None  # a limit the procedure does not write (a plugin's)


def test_the_procedure_may_name_its_gas_and_only_as_text(tmp_path: Path) -> None:
    text = (PROCEDURES / "pressure_decay.yaml").read_text()
    named = tmp_path / "named.yaml"
    named.write_text(text.replace("sample_period: 1 s", "sample_period: 1 s\ngas: nitrogen"))
    assert load_procedure(named, MOCKUP).name == "pressure_decay"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("sample_period: 1 s", "sample_period: 1 s\ngas: [air]"))
    with pytest.raises(InputError, match=r"wrong.yaml:\d+:\d+: expected text"):
        load_procedure(wrong, MOCKUP)
    assert main(["validate", str(named), "--bench", str(MOCKUP)]) == 0
