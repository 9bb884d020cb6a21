"""The samples a measuring step looks back at, kept as float64 columns: 8 bytes a value.

A step that fits its window needs every sample of it at the end (the residuals'
autocorrelation and the level-shift scan see the whole window), so the samples stay in
memory for the step's whole length: a day at 10 Hz is 864 000 of them. As Python
``(t, value)`` tuples, one list per channel, they cost about 100 bytes a value (470 bytes a
sample on the vacuum-chamber mockup's five channels, 0.4 GB a day); here a sample costs 8
bytes for its time and 8 for each channel the step fits, and the fit reads the columns
where they are, without a copy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Room for 17 minutes at 1 Hz (100 s at 10 Hz) before the first doubling.
INITIAL_CAPACITY = 1024


class SampleStore:
    """The current step's samples: one column of times, one column of values per kept channel.

    A channel that read nothing (None) holds NaN, which is how every fit already took it;
    the drivers never return a non-finite reading (they give None), so NaN means "read
    nothing" and nothing else. Columns double when full: appending stays O(1) amortised,
    and the pages of a column's unused tail are never written, so they take address space,
    not memory.
    """

    def __init__(self) -> None:
        self._channels: tuple[str, ...] = ()
        self._columns: dict[str, FloatArray] = {}
        self._times: FloatArray = np.empty(0)
        self._n = 0
        self._last_s = -math.inf
        # Times come from a monotonic clock; if one ever went back, the window and the
        # temperature alignment take the slow path that does not rely on order.
        self._ordered = True

    def restart(self, channels: Iterable[str]) -> None:
        """Drop every sample and keep ``channels`` from now on (none: keep nothing)."""
        self._channels = tuple(dict.fromkeys(channels))
        capacity = INITIAL_CAPACITY if self._channels else 0
        self._times = np.empty(capacity)
        self._columns = {c: np.empty(capacity) for c in self._channels}
        self._n = 0
        self._last_s = -math.inf
        self._ordered = True

    @property
    def last_s(self) -> float:
        """The time of the last sample kept (−inf before the first)."""
        return self._last_s

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels kept in the current step."""
        return self._channels

    def __len__(self) -> int:
        return self._n

    def append(self, t_s: float, values: Mapping[str, float | None]) -> None:
        """Keep one sample of the kept channels (a channel missing from ``values`` read nothing)."""
        if not self._channels:
            return
        n = self._n
        if n == self._times.size:
            self._grow()
        if t_s < self._last_s:
            self._ordered = False
        self._last_s = t_s
        self._times[n] = t_s
        for channel, column in self._columns.items():
            value = values.get(channel)
            column[n] = math.nan if value is None else value
        self._n = n + 1

    def _grow(self) -> None:
        # One column at a time, so that growing costs one old column beside the new ones.
        capacity = 2 * self._times.size
        self._times = _moved(self._times, self._n, capacity)
        for channel in self._channels:
            self._columns[channel] = _moved(self._columns[channel], self._n, capacity)

    def times(self) -> FloatArray:
        """The sample times so far, s (a read-only view: valid after more samples, not updated)."""
        return _frozen(self._times[: self._n])

    def values(self, channel: str) -> FloatArray:
        """``channel``'s values so far (NaN where it read nothing), as :meth:`times`."""
        return _frozen(self._columns[channel][: self._n])

    def window(
        self, channel: str, start_s: float, temperature: str | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Times, values of ``channel`` and (if named) ``temperature`` of the samples at or after ``start_s``.

        A temperature is taken from the last sample at the same time (two steps' samples can
        share a time stamp where one hold ends and the next begins, the virtual clock not
        moving between them), and a reading of exactly 0 K counts as none.
        """
        times, values = self.times(), self.values(channel)
        if self._ordered:
            start = int(np.searchsorted(times, start_s, side="left"))
            t, p = times[start:], values[start:]
        else:
            inside = times >= start_s
            t, p = times[inside], values[inside]
        if temperature is None:
            return t, p, None
        kelvin = self.values(temperature)
        if self._ordered:
            kelvin = kelvin[start:]
            if t.size > 1 and bool(np.any(t[1:] == t[:-1])):
                kelvin = kelvin[np.searchsorted(t, t, side="right") - 1]
        else:
            kelvin = kelvin[_last_at_same_time(times, t)]
        if bool(np.any(kelvin == 0.0)):
            kelvin = np.where(kelvin == 0.0, math.nan, kelvin)
        return t, p, kelvin


def _moved(column: FloatArray, n: int, capacity: int) -> FloatArray:
    grown = np.empty(capacity)
    grown[:n] = column[:n]
    return grown


def _frozen(view: FloatArray) -> FloatArray:
    view.flags.writeable = False
    return view


def _last_at_same_time(times: FloatArray, wanted: FloatArray) -> npt.NDArray[np.intp]:
    """For each of ``wanted`` (every one among ``times``), the index of the last sample at that time."""
    distinct, first_from_end = np.unique(times[::-1], return_index=True)
    return (times.size - 1 - first_from_end[np.searchsorted(distinct, wanted)]).astype(np.intp)
