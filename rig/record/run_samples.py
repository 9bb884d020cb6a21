"""A run's samples as arrays: clock time, the step of each sample, one column per channel.

``samples.csv`` is read as text rows by :func:`rig.record.run_store.read_samples` (a last line
cut short by a crash is dropped there); :func:`parse_samples` turns the rows into arrays for
the plots and the certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rig.errors import InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RunSamples:
    """A run's samples as arrays: clock time, the step of each sample, one array per channel.

    A dropout (an empty cell) is NaN, so a trace has a gap there rather than a zero.
    """

    time_s: FloatArray
    step: npt.NDArray[np.str_]
    channels: dict[str, FloatArray]


def parse_samples(header: Sequence[str], rows: Sequence[Sequence[str]]) -> RunSamples:
    """Turn the rows of ``samples.csv`` into arrays (empty cells become NaN)."""
    if len(header) < 2 or list(header[:2]) != ["time", "step"]:
        raise InputError(f"samples.csv: expected a header starting time,step, got {','.join(header)!r}")
    width = len(header)
    # A row of another width is damage (the store never writes one): it is dropped, not guessed.
    good = [r for r in rows if len(r) == width]
    if not good:
        empty = np.empty(0, dtype=np.float64)
        return RunSamples(empty, np.empty(0, dtype=np.str_), {c: empty.copy() for c in header[2:]})
    columns = np.array(good, dtype=np.str_).T
    try:
        time_s = columns[0].astype(np.float64)
        channels = {}
        for name, cells in zip(header[2:], columns[2:], strict=True):
            cells = np.where(cells == "", "nan", cells)
            channels[name] = cells.astype(np.float64)
    except ValueError as exc:
        raise InputError(f"samples.csv: a cell is not a number ({exc})") from None
    return RunSamples(time_s, columns[1], channels)
