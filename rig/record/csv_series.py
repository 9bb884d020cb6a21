"""Read a recorded time series from CSV: ``time``, ``pressure`` and optional ``temperature``.

The header names the columns; a unit may follow in brackets (``pressure[mbar]``,
``time[min]``, ``temperature[degC]``); without one the SI unit is assumed (s, Pa, K).
Lines starting with ``#`` are comments, other columns are ignored, and an empty cell
or ``nan`` is a dropout (kept as NaN and skipped by the fits, never invented).

The pressure column's printed digits and value steps are kept as :attr:`Series.pressure_steps`
(converted to Pa): what the recording shows of its gauge's resolution
(:mod:`rig.analysis.resolution` says how they are read).
"""

from __future__ import annotations

import csv
import math
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rig.analysis.linefit import FloatArray
from rig.analysis.resolution import PrintedDigits, ReadingSteps, value_step
from rig.errors import InputError
from rig.units import array_converter

_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<unit>[^\]]*)\])?\s*$")
_KINDS = {"time": "time", "pressure": "pressure", "temperature": "temperature"}
# Hostile-input bounds: a recording larger than these is refused before it exhausts memory or
# time (5 million samples is 58 days at 1 Hz; each costs 24 bytes here, more in the fit).
MAX_CSV_BYTES = 256 * 1024 * 1024
MAX_ROWS = 5_000_000


@dataclass(frozen=True)
class Series:
    """A recorded series in SI units: time in s, pressure in Pa, gas temperature in K."""

    time_s: FloatArray
    pressure_pa: FloatArray
    temperature_k: FloatArray | None
    source: str
    pressure_steps: ReadingSteps = field(default_factory=ReadingSteps)


@dataclass(frozen=True)
class _Column:
    index: int
    name: str
    unit: str | None


def _parse_header(row: list[str], where: str) -> dict[str, _Column]:
    columns: dict[str, _Column] = {}
    for i, cell in enumerate(row):
        m = _HEADER.match(cell)
        if not m:
            raise InputError(f"{where}: cannot read column header {cell!r} (write e.g. 'pressure[mbar]')")
        name = m.group("name").strip().lower()
        unit = m.group("unit")
        if name in columns:
            raise InputError(f"{where}: column {name!r} appears twice")
        columns[name] = _Column(i, name, unit.strip() if unit is not None else None)
    return columns


def _number(cell: str, where: str, column: str) -> float:
    text = cell.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: column {column!r}: {_short(text)} is not a number") from None
    if math.isinf(value):  # "inf", or a number beyond float range such as 1e999: never a reading
        raise InputError(f"{where}: column {column!r}: {_short(text)} is not a finite number")
    return value


def _short(text: str, limit: int = 40) -> str:
    """``repr(text)`` cut short, so a hostile cell cannot flood the one-line message."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def read_series(
    path: str | Path,
    *,
    time_column: str = "time",
    pressure_column: str = "pressure",
    temperature_column: str | None = "temperature",
    require_temperature: bool = False,
    time_from: float | None = None,
    time_to: float | None = None,
    first_of_repeated_times: bool = False,
) -> Series:
    """Read ``path`` into a :class:`Series`; every problem is an :class:`InputError`.

    ``temperature_column`` is used when the file has it (or must exist when
    ``require_temperature``). ``time_from`` and ``time_to`` (in the file's time unit, both
    inclusive; None: open) keep only the samples of that window; the pressure column's
    printed digits and value steps are still read from the whole file, since the gauge's
    resolution is the same outside the window. Time must increase strictly over the finite
    stamps kept; with ``first_of_repeated_times`` a row at the time of the row before is
    dropped instead (a run recorded before ``samples.csv`` kept one row per time stamp had
    such rows where steps met; its writer now keeps the first reading of an instant too).
    """
    if time_from is not None and time_to is not None and time_from > time_to:
        raise InputError(f"the window is inverted: it starts at {time_from:g}, after its end {time_to:g}")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    size = p.stat().st_size
    if size > MAX_CSV_BYTES:
        raise InputError(f"{p}: file too large ({size} bytes; at most {MAX_CSV_BYTES})")
    wanted = {"time": time_column.lower(), "pressure": pressure_column.lower()}
    rows = array("d")  # time, pressure, temperature of each sample, flat
    header: dict[str, _Column] | None = None
    temp_col: _Column | None = None
    digits = PrintedDigits()
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:  # a BOM is what spreadsheets write
            reader = csv.reader(fh)
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()) or row[0].lstrip().startswith("#"):
                    continue
                where = f"{p}:{line}"
                if header is None:
                    header = _parse_header(row, where)
                    for kind, name in wanted.items():
                        if name not in header:
                            raise InputError(
                                f"{where}: no column {name!r} for {kind} (columns: {', '.join(header)})"
                            )
                    if temperature_column is not None:
                        temp_col = header.get(temperature_column.lower())
                        if temp_col is None and require_temperature:
                            raise InputError(f"{where}: no column {temperature_column!r} for temperature")
                    continue
                tcol, pcol = header[wanted["time"]], header[wanted["pressure"]]
                needed = max(tcol.index, pcol.index, temp_col.index if temp_col else 0)
                if len(row) <= needed:
                    raise InputError(f"{where}: expected at least {needed + 1} cells, got {len(row)}")
                if len(rows) >= 3 * MAX_ROWS:
                    raise InputError(f"{where}: more than {MAX_ROWS} samples")
                time = _number(row[tcol.index], where, tcol.name)
                pressure = _number(row[pcol.index], where, pcol.name)
                if not math.isnan(pressure):
                    digits.add(row[pcol.index])
                rows.extend(
                    (
                        time,
                        pressure,
                        _number(row[temp_col.index], where, temp_col.name) if temp_col else math.nan,
                    )
                )
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a text CSV file (cannot decode as UTF-8)") from None
    except csv.Error as exc:
        raise InputError(f"{p}: malformed CSV ({exc})") from None
    if header is None:
        raise InputError(f"{p}: empty file (expected a header such as 'time,pressure')")
    data = np.array(rows, dtype=np.float64).reshape(-1, 3)
    tcol, pcol = header[wanted["time"]], header[wanted["pressure"]]
    steps = _pressure_steps(data[:, 1], digits, pcol, p)
    row_numbers = np.arange(1, data.shape[0] + 1, dtype=np.int64)
    if time_from is not None or time_to is not None:
        inside = _window(data[:, 0], time_from, time_to, p, tcol)
        data, row_numbers = data[inside], row_numbers[inside]
    if first_of_repeated_times:
        finite = np.flatnonzero(np.isfinite(data[:, 0]))
        repeats = finite[1:][np.diff(data[finite, 0]) == 0.0]
        if repeats.size:
            keep = np.ones(data.shape[0], dtype=bool)
            keep[repeats] = False
            data, row_numbers = data[keep], row_numbers[keep]
    time_s = _to_si(data[:, 0], tcol, "time", p)
    pressure_pa = _to_si(data[:, 1], pcol, "pressure", p)
    temperature_k = _to_si(data[:, 2], temp_col, "temperature", p) if temp_col else None
    if temperature_k is not None:
        _check_absolute_temperature(temperature_k, p)
    _check_increasing(time_s, p, row_numbers)
    return Series(time_s, pressure_pa, temperature_k, str(p), steps)


def _window(
    t: FloatArray, time_from: float | None, time_to: float | None, path: Path, column: _Column
) -> npt.NDArray[np.bool_]:
    """Which samples' time ``t`` (in the file's unit) lies in [time_from, time_to]; none is an error."""
    inside = np.isfinite(t)
    if time_from is not None:
        inside &= t >= time_from
    if time_to is not None:
        inside &= t <= time_to
    if not inside.any():
        unit = f" {column.unit}" if column.unit else ""
        finite = t[np.isfinite(t)]
        span = (
            f"its times run from {finite.min():g} to {finite.max():g}{unit}"
            if finite.size
            else "it has no times"
        )
        low = "the start" if time_from is None else f"{time_from:g}"
        high = "the end" if time_to is None else f"{time_to:g}"
        raise InputError(f"{path}: no samples from {low} to {high}{unit} ({span})")
    return inside


def _pressure_steps(values: FloatArray, digits: PrintedDigits, column: _Column, path: Path) -> ReadingSteps:
    """The printed and value steps of the pressure column (read in its own unit), in Pa."""
    printed = digits.step
    grid = value_step(values, digits.finest_place)
    if column.unit is None:
        return ReadingSteps(printed, grid)
    # A step is a difference: a unit's offset (none for pressures, but cheap to honour) cancels.
    zero, one = _to_si(np.array([0.0, 1.0]), column, "pressure", path)
    scale = abs(float(one - zero))
    return ReadingSteps(
        printed * scale if printed is not None else None, grid * scale if grid is not None else None
    )


def _to_si(values: FloatArray, column: _Column, kind: str, path: Path) -> FloatArray:
    if column.unit is None:
        return np.ascontiguousarray(values)
    try:
        convert = array_converter(column.unit, _KINDS[kind])
    except InputError as exc:
        raise InputError(f"{path}: column {column.name!r}: {exc}") from None
    return np.ascontiguousarray(convert(values))


def _check_increasing(time_s: FloatArray, path: Path, row_numbers: npt.NDArray[np.int64]) -> None:
    """Refuse a time column that repeats or goes back (``row_numbers``: each sample's data row)."""
    finite = np.flatnonzero(np.isfinite(time_s))
    steps = np.diff(time_s[finite])
    bad = np.flatnonzero(steps <= 0.0)
    if bad.size:
        i = int(finite[bad[0] + 1])
        # Plain floats: a NumPy scalar's repr (np.float64(0.0)) means nothing to a user.
        before, now = float(time_s[finite[bad[0]]]), float(time_s[i])
        raise InputError(
            f"{path}: time does not increase at data row {int(row_numbers[i])} ({before!r} s then {now!r} s)"
        )


def _check_absolute_temperature(temperature_k: FloatArray, path: Path) -> None:
    """A gas temperature at or below absolute zero is a wrong unit or a broken sensor, not data."""
    bad = np.flatnonzero(~(temperature_k > 0.0) & ~np.isnan(temperature_k))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{path}: temperature at data row {i + 1} is {float(temperature_k[i])!r} K, "
            "not above absolute zero (a Celsius column needs its unit: 'temperature[degC]')"
        )
