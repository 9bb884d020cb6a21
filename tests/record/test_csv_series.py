"""The CSV reader: what its pressure column shows of the gauge's step, in Pa, beside the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rig.analysis.resolution import ReadingSteps
from rig.errors import InputError
from rig.record.csv_series import Series, read_series


def write(tmp_path: Path, header: str, cells: list[str]) -> Path:
    path = tmp_path / "trace.csv"
    path.write_text(header + "\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells)))
    return path


@pytest.mark.parametrize(
    ("header", "cells", "printed_pa", "values_pa"),
    [
        ("time,pressure", ["101325.0", "101324.9", "101324.7"], 0.1, 0.1),
        ("time,pressure", ["1.0132e+05", "1.0131e+05", "1.0129e+05"], 10.0, 10.0),
        ("time,pressure", ["1", "1", "1"], 1.0, None),
        ("time,pressure", ["100.0", "100.5", "101.5"], 0.1, 0.5),
        # In another unit: the steps are the column's, converted.
        ("time,pressure[mbar]", ["1013.25", "1013.20", "1013.15"], 1.0, 5.0),
        ("time,pressure[kPa]", ["101.3", "101.2", "101.0"], 100.0, 100.0),
        ("time , Pressure [ mbar ]", ["2000.00", "1999.99"], 1.0, 1.0),
        # Dropouts show nothing; a negative gauge pressure steps like any other.
        ("time,pressure", ["", "nan", "-12.5", "-12.0", "NaN"], 0.1, 0.5),
    ],
)
def test_pressure_steps_in_pa(
    tmp_path: Path, header: str, cells: list[str], printed_pa: float, values_pa: float | None
) -> None:
    steps = read_series(write(tmp_path, header, cells)).pressure_steps
    assert steps.printed_pa == pytest.approx(printed_pa, rel=1e-12)
    if values_pa is None:
        assert steps.values_pa is None
    else:
        assert steps.values_pa == pytest.approx(values_pa, rel=1e-9)


def test_the_series_is_read_as_before(tmp_path: Path) -> None:
    series = read_series(write(tmp_path, "time,pressure[mbar]", ["1000.5", "", "999.5"]))
    np.testing.assert_array_equal(series.time_s, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(series.pressure_pa, [100050.0, np.nan, 99950.0])
    assert series.temperature_k is None and series.source.endswith("trace.csv")


def test_a_series_built_by_hand_has_no_steps() -> None:
    t = np.arange(3.0)
    series = Series(t, t, None, "made")
    assert series.pressure_steps == ReadingSteps(None, None)


def test_cells_in_no_decimal_form_leave_only_the_value_steps(tmp_path: Path) -> None:
    steps = read_series(write(tmp_path, "time,pressure", ["1_000", "1_002", "1_003"])).pressure_steps
    assert steps.printed_pa is None
    assert steps.values_pa == pytest.approx(1.0)
    flat = read_series(write(tmp_path, "time,pressure", ["1_000"] * 3)).pressure_steps
    assert flat == ReadingSteps(None, None)


def test_a_bad_time_is_still_named_before_a_bad_pressure(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,pressure\n0,1\nsoon,lots\n")
    with pytest.raises(InputError, match="column 'time'"):
        read_series(path)
