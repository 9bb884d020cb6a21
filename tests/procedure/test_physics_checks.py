"""A simulated bench's physics is held to its models' validity by `rig validate`, every problem located.

Each case edits one parameter of ``procedures/benches/vacuum_chamber_mockup.yaml`` out of the
range its model holds for, and ``rig validate procedures/pressure_decay.yaml --bench EDITED``
must exit 2 with exactly one ``file:line:col: message`` line, at the edited value; no server
starts (the physics is built on a virtual clock and thrown away). ``rig run --sim`` refuses
the same bench before anything is recorded.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from rig.cli import main

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
DECAY = ROOT / "procedures" / "pressure_decay.yaml"
FAULTS = "\nfaults:\n  - {instrument: gauges, kind: timeout, at: 10 min, duration: 30 s}\n"

# (what is replaced, by what, where the problem stands: this text within the replacement, and
# a fragment of the message)
CASES = {
    "extra volume of negative size": (
        "pumpline: {size: 0.5 L",
        "pumpline: {size: -0.5 L",
        "-0.5 L",
        "volume must be positive",
    ),
    "extra volume of zero size": (
        "pumpline: {size: 0.5 L",
        "pumpline: {size: 0 L",
        "0 L",
        "volume must be positive",
    ),
    "valve of no area": (
        "supply: {area: 1 mm**2",
        "supply: {area: 0 mm**2",
        "0 mm**2",
        "area must be positive",
    ),
    "valve discharge coefficient above one": (
        "supply: {area: 1 mm**2, discharge_coefficient: 0.8}",
        "supply: {area: 1 mm**2, discharge_coefficient: 1.5}",
        "1.5}",
        "discharge coefficient",
    ),
    "valve discharge coefficient zero": (
        "vent: {area: 5 mm**2, discharge_coefficient: 0.8}",
        "vent: {area: 5 mm**2, discharge_coefficient: 0}",
        "0}",
        "lies in (0, 1]",
    ),
    "valve opening before it is told": (
        "vent: {area: 5 mm**2, discharge_coefficient: 0.8}",
        "vent: {area: 5 mm**2, discharge_coefficient: 0.8, opening_delay: -1 s}",
        "-1 s",
        "opening_delay cannot be negative",
    ),
    "orifice of no diameter": ("diameter: 5 um", "diameter: 0 um", "0 um", "length must be positive"),
    "orifice discharge coefficient above one": (
        "diameter: 5 um, discharge_coefficient: 0.7",
        "diameter: 5 um, discharge_coefficient: 2",
        "2",
        "discharge coefficient",
    ),
    "negative conductance": (
        "conductance: 1e-11 m**3/s",
        "conductance: -1e-11 m**3/s",
        "-1e-11",
        "conductance must be positive",
    ),
    "pump of no speed": (
        "speed: 10 L/s, ultimate",
        "speed: 0 L/s, ultimate",
        "0 L/s, ultimate",
        "conductance must be positive",
    ),
    "pump speed curve negative": (
        "[0.1 Pa, 6 L/s]",
        "[0.1 Pa, -6 L/s]",
        "-6 L/s",
        "conductance must be positive",
    ),
    "pump ultimate below vacuum": (
        "ultimate: 0.05 Pa",
        "ultimate: -1 Pa",
        "-1 Pa",
        "ultimate cannot be negative",
    ),
    "outside below absolute zero": (
        "supply: {pressure: 2 bar, temperature: 20 degC}",
        "supply: {pressure: 2 bar, temperature: -5 K}",
        "-5 K",
        "temperature must be positive",
    ),
    "outside at negative pressure": (
        "supply: {pressure: 2 bar",
        "supply: {pressure: -2 bar",
        "-2 bar",
        "pressure cannot be negative",
    ),
    "barometric drift below vacuum": (
        "drift_pressure: 150 Pa",
        "drift_pressure: 2 bar",
        "2 bar",
        "below vacuum",
    ),
    "temperature drift to absolute zero": (
        "drift_temperature: 0.3 K",
        "drift_temperature: 400 K",
        "400 K",
        "absolute zero",
    ),
    "outside named as a volume": (
        "    exhaust: {pressure: 0 Pa}",
        "    exhaust: {pressure: 0 Pa}\n    chamber: {pressure: 1 atm}",
        "chamber: {pressure",
        "an outside needs a name of its own",
    ),
    "thermal time constant zero": (
        "chamber: {thermal_tau: 120 s}",
        "chamber: {thermal_tau: 0 s}",
        "0 s}",
        "time must be positive",
    ),
    "initial pressure below vacuum": (
        "initial_pressure: 1 Pa",
        "initial_pressure: -1 Pa",
        "-1 Pa",
        "initial_pressure cannot be negative",
    ),
    "initial temperature zero": (
        "chamber: {thermal_tau: 120 s}",
        "chamber: {thermal_tau: 120 s, initial_temperature: 0 K}",
        "0 K}",
        "temperature must be positive",
    ),
    "wall below absolute zero": (
        "chamber: {thermal_tau: 120 s}",
        "chamber: {thermal_tau: 120 s, wall_temperature: -3 K}",
        "-3 K",
        "temperature must be positive",
    ),
    "sensor min above max": (
        "p_reference: {type: CMR, min: 0.01 Pa",
        "p_reference: {type: CMR, min: 300 kPa",
        "300 kPa",
        "is not below max",
    ),
    "sensor min negative": (
        "p_reference: {type: CMR, min: 0.01 Pa",
        "p_reference: {type: CMR, min: -1 Pa",
        "-1 Pa",
        "min cannot be negative",
    ),
    "sensor accuracy above one": (
        "max: 266 kPa, accuracy: 0.0025, noise: 0.3 Pa, resolution: 0.01 Pa}",
        "max: 266 kPa, accuracy: 1.5, noise: 0.3 Pa, resolution: 0.01 Pa}",
        "1.5,",
        "accuracy is a fraction of the reading",
    ),
    "sensor accuracy zero": (
        "accuracy: 0.05, noise: 0 Pa",
        "accuracy: 0, noise: 0 Pa",
        "0, noise",
        "accuracy is a fraction of the reading",
    ),
    "relative noise of a whole reading": (
        "noise_relative: 0.002",
        "noise_relative: 1.5",
        "1.5",
        "noise_relative is a fraction",
    ),
    "sensor noise negative": (
        "accuracy: 0.0025, noise: 0.3 Pa, resolution: 0.01 Pa}",
        "accuracy: 0.0025, noise: -0.3 Pa, resolution: 0.01 Pa}",
        "-0.3 Pa",
        "noise cannot be negative",
    ),
    "sensor drift negative": ("drift: 0.002 Pa", "drift: -0.002 Pa", "-0.002 Pa", "drift cannot be negative"),
    "thermocouple accuracy negative": (
        "t_chamber: {accuracy: 0.3 K",
        "t_chamber: {accuracy: -0.3 K",
        "-0.3 K",
        "accuracy cannot be negative",
    ),
    "outgassing growing": ("exponent: 1}", "exponent: -1}", "-1}", "exponent in (0, 2]"),
    "outgassing exponent absurd": ("exponent: 1}", "exponent: 30}", "30}", "exponent in (0, 2]"),
    "outgassing rate zero": (
        "rate: 2e-7 Pa*m**3/s",
        "rate: 0 Pa*m**3/s",
        "0 Pa*m**3/s",
        "leak rate must be positive",
    ),
    "seed negative": ("seed: 1\n", "seed: -1\n", "-1\n", "a seed is a whole number from 0 to 2**32 - 1"),
    "seed past 32 bits": ("seed: 1\n", "seed: 4294967296\n", "4294967296", "a seed is a whole number from 0"),
    "seed fractional": ("seed: 1\n", "seed: 1.5\n", "1.5\n", "expected a whole number"),
    "fault before the clock starts": (
        FAULTS,
        FAULTS.replace("at: 10 min", "at: -1 min"),
        "-1 min",
        "at cannot be negative",
    ),
    "fault lasting nothing": (
        FAULTS,
        FAULTS.replace("duration: 30 s", "duration: 0 s"),
        "0 s}",
        "time must be positive",
    ),
    "permeation before the clock starts": (
        "kind: molecular, conductance: 1e-11 m**3/s}",
        "kind: permeation, conductance: 1e-12 m**3/s, starts_at: -10 min}",
        "-10 min",
        "starts_at cannot be negative",
    ),
}


def position(text: str, new: str, marker: str) -> str:
    """line:col (1-based) of ``marker`` within the first ``new`` in ``text``."""
    offset = text.index(new) + new.index(marker)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def edited(tmp_path: Path, *changes: tuple[str, str]) -> tuple[Path, str]:
    """The mockup (with one scheduled fault) with ``changes`` made, each of which must apply once."""
    text = MOCKUP.read_text() + FAULTS
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    return path, text


def rig(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``rig ARGS`` in this process: exit code and stderr (a traceback counts as exit code 1)."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except Exception:
        return 1, traceback.format_exc()
    return code, capsys.readouterr().err


def test_the_mockup_with_a_fault_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = edited(tmp_path)
    code, err = rig(capsys, "validate", str(DECAY), "--bench", str(path))
    assert code == 0, err


@pytest.mark.parametrize("case", list(CASES))
def test_a_physics_parameter_out_of_its_model_is_located(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, marker, fragment = CASES[case]
    path, text = edited(tmp_path, (old, new))
    code, err = rig(capsys, "validate", str(DECAY), "--bench", str(path))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{path}:{position(text, new, marker)}: "), lines[0]
    assert fragment in lines[0], lines[0]


def test_every_physics_problem_is_listed_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = [
        "valve discharge coefficient above one",
        "orifice of no diameter",
        "sensor min above max",
        "seed negative",
    ]
    path, text = edited(tmp_path, *((CASES[c][0], CASES[c][1]) for c in chosen))
    code, err = rig(capsys, "validate", str(DECAY), "--bench", str(path))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == len(chosen), err
    for case in chosen:
        _, new, marker, fragment = CASES[case]
        assert any(
            line.startswith(f"{path}:{position(text, new, marker)}: ") and fragment in line for line in lines
        ), (case, err)


def test_a_pump_exhausting_to_no_outside_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pump = "{volume: pumpline, speed"
    path, text = edited(
        tmp_path,
        ("{volume: pumpline, exhaust: exhaust, speed", pump),
        ("    exhaust: {pressure: 0 Pa}", "    stack: {pressure: 0 Pa}"),
    )
    code, err = rig(capsys, "validate", str(DECAY), "--bench", str(path))
    assert code == 2, err
    assert err.startswith(f"{path}:{position(text, pump, pump)}: this pump exhausts to 'exhaust'"), err
    assert len(err.strip().splitlines()) == 1, err


def test_rig_run_sim_refuses_the_physics_before_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, marker, fragment = CASES["orifice discharge coefficient above one"]
    path, text = edited(tmp_path, (old, new))
    data = tmp_path / "data"
    code, err = rig(capsys, "run", str(DECAY), "--bench", str(path), "--sim", "--data-dir", str(data))
    assert code == 2, err
    assert f"{path}:{position(text, new, marker)}: " in err and fragment in err, err
    assert "Traceback" not in err
    assert not data.exists() or not [p for p in data.rglob("*") if p.is_dir()], "a run was recorded"
