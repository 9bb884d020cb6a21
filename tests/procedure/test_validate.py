"""Procedure validation: shipped procedures are valid; every mistake is reported at once, located."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drivers.models import MODELS
from rig.bench import load_bench
from rig.located_yaml import LocatedError
from rig.procedure.loader import ProcedureInvalid, load_procedure, sensor_accuracy

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
SHIPPED = sorted(PROCEDURES.glob("*.yaml"))


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_procedure_validates(path: Path) -> None:
    procedure = load_procedure(path)
    assert procedure.main and procedure.bench.simulated
    done = rig("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


BAD = """\
procedure: bad
version: 2
bench: benches/vacuum_chamber_mockup.yaml
colour: red
main:
  - fill: {volume: artcle, to: 2 bar, tolerance: 50 mbar, timeout: -5 min}
  - teleport: {to: mars}
  - wait: {duration: 10}
  - set_valves: {valves: {vent: ajar}}
  - measure_decay: {name: d, channel: p_article, volume: article, duration: 10 min, limit: 3 bar}
  - repeat: {times: 0, steps: [{wait: {duration: 1 s, extra: 1}}]}
"""

EXPECTED = [
    ("4:1", "unknown key 'colour'"),
    ("2:10", "version 2 is not known"),
    ("6:20", "unknown volume 'artcle'"),
    ("6:68", "time must be positive"),
    ("7:5", "unknown step 'teleport'"),
    ("8:22", "expected a time with units"),
    ("9:33", "'ajar' is not one of"),
    ("10:92", "not a leak-rate unit"),
    ("11:21", "expected at least 1"),
    ("11:55", "unknown key 'extra'"),
]


def write_bad(tmp_path: Path) -> Path:
    (tmp_path / "benches").mkdir()
    bench = (PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml").read_text()
    (tmp_path / "benches" / "vacuum_chamber_mockup.yaml").write_text(bench)
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    return path


def test_every_problem_is_reported_at_once_with_its_place(tmp_path: Path) -> None:
    path = write_bad(tmp_path)
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(path)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == len(EXPECTED)
    for line, (where, message) in zip(lines, EXPECTED, strict=True):
        assert line.startswith(f"{path}:{where}: "), line
        assert message in line


def test_rig_validate_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    path = write_bad(tmp_path)
    done = rig("validate", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == len(EXPECTED)


def test_bench_override_and_missing_bench(tmp_path: Path) -> None:
    procedure = tmp_path / "p.yaml"
    procedure.write_text("procedure: p\nversion: 1\nbench: nowhere.yaml\nmain:\n  - wait: {duration: 1 s}\n")
    with pytest.raises(ProcedureInvalid, match=r"p.yaml:3:8: bench file 'nowhere.yaml' not found"):
        load_procedure(procedure)
    bench = PROCEDURES / "benches" / "iss_segment_mockup.yaml"
    assert load_procedure(procedure, bench).bench.name == "iss_segment_mockup"


def test_problems_in_the_bench_file_are_reported_with_the_bench_s_place(tmp_path: Path) -> None:
    (tmp_path / "bench.yaml").write_text("bench: b\ninstruments:\n  g: {model: TPG999}\n")
    procedure = tmp_path / "p.yaml"
    procedure.write_text("procedure: p\nversion: 1\nbench: bench.yaml\nmain:\n  - wait: {duration: 1 s}\n")
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(procedure)
    assert str(info.value).startswith(f"{tmp_path / 'bench.yaml'}:3:14:")


def test_a_limit_the_bench_cannot_resolve_is_refused(tmp_path: Path) -> None:
    text = (
        (PROCEDURES / "pressure_decay.yaml").read_text().replace("limit: 0.5 sccm}", "limit: 0.00001 sccm}")
    )
    (tmp_path / "benches").mkdir()
    bench = (PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml").read_text()
    (tmp_path / "benches" / "vacuum_chamber_mockup.yaml").write_text(bench)
    path = tmp_path / "tight.yaml"
    path.write_text(text)
    with pytest.raises(ProcedureInvalid, match="below what 'p_article' can resolve in 600 s") as info:
        load_procedure(path)
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"{path}:{text.count(chr(10), 0, text.index('0.00001')) + 1}:")
    # Long enough, the same gauge can: its 10 Pa display steps at 2 bar need about 154 h for this limit.
    longer = text.replace("duration: 10 min, limit: 0.00001 sccm", "duration: 200 h, limit: 0.00001 sccm")
    path.write_text(longer)
    assert load_procedure(path).main[-1].fields["duration"] == 720000.0


def test_a_controller_that_prints_too_few_digits_is_refused(tmp_path: Path) -> None:
    # The 937B prints 3 significant digits: 1 kPa steps at 2 bar, too coarse for a 10-minute decay
    # of 0.5 sccm in 1 L. Read through it, the decay looked flat and a leaking article "passed".
    bench = (PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml").read_text()
    coarse = bench.replace(
        "p_article: {instrument: gauges, channel: 2,", "p_article: {instrument: baratron, channel: 2,"
    )
    assert coarse != bench
    (tmp_path / "coarse.yaml").write_text(coarse)
    with pytest.raises(ProcedureInvalid, match=r"steps of 1e\+03 Pa") as info:
        load_procedure(PROCEDURES / "pressure_decay.yaml", tmp_path / "coarse.yaml")
    assert "at 2e+05 Pa" in str(info.value)  # the level the fill brought the article to


MOCKUP = PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml"
CORPUS_BENCH = Path(__file__).parent / "corpus" / "good_bench.yaml"


def test_a_file_that_does_not_parse_is_one_located_problem(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("procedure: p\nversion: 1\nmain:\n  - wait: {duration: 1 s\n")
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(path, MOCKUP)
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"{path}:5:1: YAML syntax")
    done = rig("validate", str(path), "--bench", str(MOCKUP))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}:5:1: YAML syntax"), done.stderr


def test_valve_steps_are_still_checked_for_shape_when_the_bench_fails(tmp_path: Path) -> None:
    (tmp_path / "bench.yaml").write_text("bench: b\ninstruments:\n  g: {model: TPG999}\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "procedure: p\nversion: 1\nbench: bench.yaml\nmain:\n"
        "  - set_valves: {valves: {vent: closed, supply: ajar}}\n"
        "  - compartment_isolation: {name: c, hatches: [hatch, [x]], watch: 1 min}\n"
    )
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(path)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{tmp_path / 'bench.yaml'}:3:14: 'TPG999' is not one of")
    assert lines[1].startswith(f"{path}:5:49: 'ajar' is not one of: closed, open")
    assert lines[2].startswith(f"{path}:6:55: expected text, got a list")


def test_every_unknown_and_missing_key_of_a_step_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("procedure: p\nversion: 1\nmain:\n  - fill: {volume: article, speed: 1, colour: red}\n")
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(path, MOCKUP)
    details = sorted(p.detail.split(" (")[0] for p in info.value.problems)
    assert details == [
        "missing key 'timeout'",
        "missing key 'to'",
        "missing key 'tolerance'",
        "unknown key 'colour'",
        "unknown key 'speed'",
    ]


def test_sensor_accuracy_of_a_simulated_bench_is_its_sensors() -> None:
    bench = load_bench(MOCKUP)
    assert sensor_accuracy(bench, "p_chamber") == 0.05
    assert sensor_accuracy(bench, "p_article") == 0.0025
    # A thermocouple's accuracy is in kelvin, not a fraction of the reading.
    assert sensor_accuracy(bench, "t_chamber") == MODELS[bench.instruments["daq"].model].accuracy_rel == 0.05


def test_a_declared_accuracy_wins_and_the_default_is_conservative(tmp_path: Path) -> None:
    text = MOCKUP.read_text()
    declared = text.replace(
        "p_article: {instrument: gauges, channel: 2, measures: pressure, volume: article,",
        "p_article: {instrument: gauges, channel: 2, measures: pressure, volume: article, accuracy: 0.001,",
    )
    assert declared != text
    (tmp_path / "declared.yaml").write_text(declared)
    assert sensor_accuracy(load_bench(tmp_path / "declared.yaml"), "p_article") == 0.001
    # A simulated sensor that does not state its accuracy has the simulator's.
    silent = text.replace("accuracy: 0.0025, noise: 0.3 Pa, resolution: 0.01 Pa, drift", "drift")
    assert silent != text
    (tmp_path / "silent.yaml").write_text(silent)
    silent_bench = load_bench(tmp_path / "silent.yaml")
    simulated = MODELS[silent_bench.instruments["gauges"].model].simulated_accuracy_rel
    assert sensor_accuracy(silent_bench, "p_article") == simulated == 0.0025
    # A real bench that says nothing: assume the coarse figure, never a flattering one.
    real = load_bench(CORPUS_BENCH)
    assumed = MODELS[real.instruments[real.channels["p_article"].instrument].model].accuracy_rel
    assert sensor_accuracy(real, "p_article") == assumed == 0.05


def test_a_simulated_accuracy_out_of_range_is_located(tmp_path: Path) -> None:
    text = MOCKUP.read_text()
    bad = text.replace("accuracy: 0.05, noise: 0 Pa", "accuracy: 5, noise: 0 Pa")
    assert bad != text
    (tmp_path / "bench.yaml").write_text(bad)
    line = bad[: bad.index("accuracy: 5,")].count("\n") + 1
    with pytest.raises(LocatedError, match=rf"bench.yaml:{line}:\d+: accuracy is a fraction"):
        sensor_accuracy(load_bench(tmp_path / "bench.yaml"), "p_chamber")


def test_a_reference_check_must_agree_with_the_leak_standard_s_certificate(tmp_path: Path) -> None:
    text = (PROCEDURES / "reference_leak_check.yaml").read_text()
    path = tmp_path / "benches" / "vacuum_chamber_mockup.yaml"
    path.parent.mkdir()
    path.write_text((PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml").read_text())
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("certified_rate: 8.0e-4 Pa*m**3/s", "certified_rate: 9.0e-4 Pa*m**3/s"))
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(wrong)
    (problem,) = info.value.problems
    assert "disagrees with certificate RL-AIR-2026-0778" in str(problem)
    assert str(problem).startswith(f"{wrong}:25:23:")
