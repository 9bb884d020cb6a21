"""``rig analyze FILE --from T0 --to T1``: only that window is fitted (issue 15, item 6).

The times are the file's own (its time column's unit), both ends inclusive; an empty or
inverted window is one line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rig.cli import main

VOLUME = "1 L"


def rig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own refusals end this way, as they end the process
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def two_slopes(path: Path, header: str = "time,pressure", scale_s: float = 1.0) -> Path:
    """0 to 100 s falling 1 Pa/s, then 101 to 200 s falling 3 Pa/s (times divided by ``scale_s``)."""
    t_s = np.arange(0.0, 201.0)
    p_pa = np.where(t_s <= 100.0, 2e5 - t_s, 2e5 - 100.0 - 3.0 * (t_s - 100.0))
    lines = [header, *(f"{float(t) / scale_s!r},{float(p)!r}" for t, p in zip(t_s, p_pa, strict=True))]
    path.write_text("\n".join(lines) + "\n")
    return path


def analyzed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, float]:
    code, out, err = rig(capsys, "analyze", *argv, "--volume", VOLUME, "--json")
    assert (code, err) == (0, ""), err
    result = json.loads(out)
    assert isinstance(result, dict)
    return result


def test_only_the_window_is_fitted_both_ends_included(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv = str(two_slopes(tmp_path / "d.csv"))
    whole = analyzed(capsys, csv)
    first = analyzed(capsys, csv, "--from", "0", "--to", "100")
    second = analyzed(capsys, csv, "--from", "101", "--to", "200")
    assert whole["n"] == 201
    assert (first["n"], second["n"]) == (101, 100)  # inclusive: 0..100 and 101..200
    assert first["slope_pa_s"] == pytest.approx(-1.0, abs=1e-9)
    assert second["slope_pa_s"] == pytest.approx(-3.0, abs=1e-9)
    assert first["duration_s"] == pytest.approx(100.0)
    # Open at one end.
    assert analyzed(capsys, csv, "--from", "150")["n"] == 51
    assert analyzed(capsys, csv, "--to", "9.5")["n"] == 10


def test_the_window_is_in_the_files_time_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = str(two_slopes(tmp_path / "m.csv", header="time[min],pressure", scale_s=60.0))
    late = analyzed(capsys, csv, "--from", f"{101 / 60!r}", "--to", f"{200 / 60!r}")
    assert late["n"] == 100
    assert late["slope_pa_s"] == pytest.approx(-3.0, rel=1e-9)  # still Pa/s: minutes read as minutes


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            ["--from", "150", "--to", "120"],
            "rig analyze: error: the window is inverted: --from 150 is after --to 120",
        ),
        (["--from", "300"], "no samples from 300 to the end (its times run from 0 to 200)"),
        (["--from", "10.2", "--to", "10.8"], "no samples from 10.2 to 10.8 (its times run from 0 to 200)"),
        (["--from", "soon"], "argument --from: 'soon' is not a number"),
        (["--to", "nan"], "argument --to: 'nan' is not a finite time"),
    ],
)
def test_an_empty_or_inverted_window_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, window: list[str], message: str
) -> None:
    csv = str(two_slopes(tmp_path / "d.csv"))
    code, out, err = rig(capsys, "analyze", csv, "--volume", VOLUME, *window)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_repeated_times_are_named_as_plain_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("time,pressure\n0,100000\n0,99999\n1,99998\n2,99997\n3,99996\n")
    code, out, err = rig(capsys, "analyze", str(path), "--volume", VOLUME)
    assert (code, out) == (2, "")
    assert (
        err.strip() == f"rig analyze: error: {path}: time does not increase at data row 2 (0.0 s then 0.0 s)"
    )
    # A window that leaves the repeat out fits; the row named is still the file's.
    assert analyzed(capsys, str(path), "--from", "0.5")["n"] == 3
    path.write_text("time,pressure\n0,100000\n1,99999\n2,99998\n1.5,99997\n")
    code, _, err = rig(capsys, "analyze", str(path), "--volume", VOLUME, "--from", "1")
    assert code == 2
    assert "at data row 4 (2.0 s then 1.5 s)" in err and "np." not in err
