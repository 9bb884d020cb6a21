"""``rig run``'s --seed and --speed are checked before anything starts: one line, exit 2, no run."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.cli import main

ROOT = Path(__file__).resolve().parents[2]
DECAY = ROOT / "procedures" / "pressure_decay.yaml"


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--seed", "-1", "--seed must be a whole number from 0 to 2**32 - 1"),
        ("--seed", str(2**32), "--seed must be a whole number from 0 to 2**32 - 1"),
        ("--seed", str(10**40), "--seed must be a whole number"),
        ("--speed", "inf", "--speed must be a number above 0 and at most 1000"),
        ("--speed", "nan", "--speed must be a number above 0"),
        ("--speed", "0", "--speed must be a number above 0"),
        ("--speed", "-3", "--speed must be a number above 0"),
        ("--speed", "1e6", "at most 1000"),
    ],
)
def test_a_seed_or_speed_out_of_range_is_refused_before_anything_starts(
    option: str, value: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(["run", str(DECAY), "--sim", option, value, "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rig run: error: "), err
    assert fragment in lines[0], err
    assert not data.exists()
