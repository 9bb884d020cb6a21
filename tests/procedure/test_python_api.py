"""Procedures in Python (rig.api): the same typed steps, validation, engine and record as a YAML file.

A shipped procedure rebuilt in Python from its loaded steps is the same procedure, and run with
the same seed gives what ``rig run --sim --seed`` gives for the file; problems name the step and
attribute the author wrote; a step kind of the author's own runs; the record verifies, reports
and shows like any run's; the example in procedures/examples runs as a script.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rig.api import ProcedureInvalid, procedure, run
from rig.cli import main
from rig.errors import InputError
from rig.outcome import Outcome
from rig.procedure.loader import Procedure, load_procedure
from rig.record.integrity import load_or_create_key
from rig.steps import Step, map_steps
from rig.steps.fill import Fill
from rig.steps.isolate import Isolate
from rig.steps.repeat import Repeat
from rig.steps.set_valves import SetValves
from rig.steps.vent import Vent
from rig.steps.wait import Wait
from tests.commands.cli_runs import rig_run_sim
from tests.steps.test_plugin_step import Dwell, dwell  # noqa: F401 - dwell: the fixture registering it

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
EXAMPLE = ROOT / "procedures" / "examples" / "python_procedure.py"
SEED = 11


def unlocated(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """``steps`` without where they were read from (a file's lines, or the generated document's)."""
    return map_steps(steps, lambda s: dataclasses.replace(s, location=""))


def rebuilt(loaded: Procedure) -> Procedure:
    return procedure(
        loaded.name,
        loaded.bench,
        setup=loaded.setup,
        main=loaded.main,
        cleanup=loaded.cleanup,
        sample_period_s=loaded.sample_period_s,
        description=loaded.description,
    )


def test_a_shipped_procedure_rebuilt_in_python_runs_as_its_file_does(tmp_path: Path) -> None:
    loaded = load_procedure(PRESSURE_DECAY)
    built = rebuilt(loaded)
    for section in ("setup", "main", "cleanup"):
        assert unlocated(getattr(built, section)) == unlocated(getattr(loaded, section))
    assert (built.name, built.bench, built.sample_period_s) == (
        loaded.name,
        loaded.bench,
        loaded.sample_period_s,
    )

    from_file, file_dir = rig_run_sim(PRESSURE_DECAY, tmp_path / "file", "--seed", str(SEED))
    result = run(built, seed=SEED, data_dir=tmp_path / "python")
    assert result.verdict == Outcome.PASS and from_file["verdict"] == "PASS"
    assert (result.exit_code, result.seed) == (0, SEED)
    assert result.run_dir is not None and result.run_id == result.run_dir.name
    # The same samples, so the same fit to the last bit: results.json keeps it in Pa·m³/s.
    by_file = json.loads((file_dir / "results.json").read_text())["measurements"]["decay"]
    by_python = json.loads((result.run_dir / "results.json").read_text())["measurements"]["decay"]
    assert by_python["value"] == by_file["value"] == result.measurements["decay"].value_pa_m3_s
    assert by_python["limit"] == by_file["limit"]
    assert by_python["ucl95"] == by_file["ucl95"]
    assert from_file["measurements"]["decay"]["value_pa_m3_s"] == pytest.approx(by_python["value"], rel=1e-12)


def test_a_run_from_python_is_recorded_like_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = procedure(
        "python_wait",
        BENCH,
        gas="nitrogen",
        setup=[SetValves(valves={"vent": False})],
        main=[Wait(duration_s=20.0)],
        cleanup=[Vent(volume="chamber")],
    )
    data = tmp_path / "data"
    result = run(built, data_dir=data, seed=3, operator="A. Tester", part="PN-7", serial="SN 0042")
    assert result.verdict == Outcome.PASS, result.reason
    run_dir = result.run_dir
    assert run_dir is not None and result.run_id is not None
    # Its procedure.yaml is the document it was validated as, and loads to the same steps.
    assert (run_dir / "procedure.yaml").read_text() == built.text
    assert (run_dir / "bench.yaml").read_text() == BENCH.read_text()
    again = load_procedure(run_dir / "procedure.yaml", BENCH)
    assert unlocated(again.main) == unlocated(built.main)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["operator"] == "A. Tester" and info["seed"] == 3
    assert info["article"] == {"part": "PN-7", "serial": "SN 0042"}
    capsys.readouterr()
    assert main(["verify", str(run_dir)]) == 0
    assert capsys.readouterr().out.startswith("OK")
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "certificate.html").is_file()
    assert main(["verify", str(run_dir)]) == 0  # sealed again by the report
    capsys.readouterr()
    assert main(["runs", "show", result.run_id, "--data-dir", str(data)]) == 0
    shown = capsys.readouterr().out
    assert "python_wait" in shown and "passed" in shown


def test_a_python_run_is_refused_before_any_instrument_as_rig_run_is(tmp_path: Path, key_dir: Path) -> None:
    load_or_create_key()
    key_dir.chmod(0o777)  # anyone could swap the key: the run could not be trusted, so it is not made
    built = procedure("python_wait", BENCH, main=[Wait(duration_s=5.0)])
    with pytest.raises(InputError, match="group or others can write it"):
        run(built, data_dir=tmp_path / "data")
    assert not (tmp_path / "data" / "runs").exists()


FILL = Fill(volume="article", to_pa=2e5, tolerance_pa=5e3, timeout_s=300.0)


def problems(**sections: list[Step]) -> list[str]:
    with pytest.raises(ProcedureInvalid) as caught:
        procedure("broken", BENCH, main=sections.pop("main"), **sections)  # type: ignore[arg-type]
    assert isinstance(caught.value, InputError)
    return str(caught.value).splitlines()


def test_problems_name_the_step_and_attribute_the_author_wrote() -> None:
    found = problems(
        setup=[SetValves(valves={"vnt": False})],
        main=[
            dataclasses.replace(FILL, to_pa=-5.0),
            Isolate(volume="article"),
            dataclasses.replace(FILL, channel="p_x"),
        ],
    )
    assert len(found) == 3, found
    assert found[0].startswith("<python:broken>:") and "setup[0] (set_valves) valves" in found[0]
    assert "unknown valve 'vnt'" in found[0]
    assert "main[0] (fill) to_pa: pressure must be positive, got '-5 Pa'" in found[1]
    assert "main[2] (fill) channel: unknown channel 'p_x'" in found[2]


def test_a_problem_inside_a_repeat_names_the_nested_step() -> None:
    (line,) = problems(main=[Repeat(times=2, steps=(Wait(duration_s=1.0), Wait(duration_s=float("nan"))))])
    assert "main[0] (repeat) steps[1] (wait) duration_s:" in line and "not a finite number" in line, line


def test_a_value_of_the_wrong_type_names_its_step() -> None:
    late = dataclasses.replace(FILL, timeout_s="5 min")  # type: ignore[arg-type]
    (line,) = problems(main=[Isolate(volume="article"), late])
    assert line == "<python:broken>: main[1] (fill) timeout_s: expected a time in s (a number), got '5 min'"


def test_the_bounds_apply() -> None:
    (line,) = problems(main=[Wait(duration_s=400 * 86400.0)])
    assert "main[0] (wait) duration_s: this wait may take" in line, line


@pytest.mark.usefixtures("dwell")
def test_a_custom_step_runs_in_a_python_procedure(tmp_path: Path) -> None:
    # The lab's kind of tests/steps/test_plugin_step.py, built here in Python instead of YAML.
    step = Dwell(name="room", channel="p_chamber", duration_s=15.0, above_pa=90e3)
    built = procedure(
        "custom", BENCH, setup=[SetValves(valves={"vent": False})], main=[Repeat(times=2, steps=(step,))]
    )
    assert "dwell:\n" in built.text and "above: 90000 Pa" in built.text
    assert unlocated(built.main) == (Repeat(times=2, steps=(step,)),)
    result = run(built, data_dir=tmp_path / "data", seed=1)
    assert result.verdict == Outcome.PASS, result.reason
    assert result.measurements["room"].outcome == Outcome.PASS
    assert result.run_dir is not None
    events = [json.loads(line) for line in (result.run_dir / "events.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "dwell" for e in events) == 2
    # Its own check, named like ours.
    with pytest.raises(ProcedureInvalid, match=r"main\[0\] \(dwell\) above_pa: a floor of 5e\+06 Pa"):
        procedure("custom", BENCH, main=[dataclasses.replace(step, above_pa=50e5)])


def test_the_example_runs_as_a_script_and_its_record_verifies(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path / "data"), "--seed", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "verdict: PASS (every measurement within its limit)", lines
    assert lines[1].startswith("leak rate: ") and lines[1].endswith(" sccm)"), lines
    rate_pa_m3_s = float(lines[1].split()[2])
    assert 1e-4 < rate_pa_m3_s < 9.062e-4  # the mockup's seal leak, under the 0.5 sccm limit
    run_dir = Path(lines[2].split()[2])
    events = (run_dir / "events.jsonl").read_text()
    assert "t_article settled within 0.5 K" in events
    verified = subprocess.run(
        [sys.executable, "-m", "rig", "verify", str(run_dir)], capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stderr
