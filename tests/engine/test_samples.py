"""The sample store (rig.engine.samples): what a measuring step keeps, and the windows it fits.

The windows are checked against the lists of ``(t, value)`` tuples the runner kept before
the store, with the same reading: a window is every sample at or after its start, a missing
value is NaN, and a temperature is the one of the last sample at the same time (0 K: none).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from rig.engine.samples import INITIAL_CAPACITY, SampleStore

Rows = list[tuple[float, float | None]]


def listed_window(
    rows: dict[str, Rows], channel: str, temperature: str | None, start: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """How the runner read a window from its lists of tuples, before the store."""
    kept = [(ti, pi) for ti, pi in rows[channel] if ti >= start]
    t = np.array([r[0] for r in kept], dtype=np.float64)
    p = np.array([math.nan if r[1] is None else r[1] for r in kept], dtype=np.float64)
    if temperature is None:
        return t, p, None
    temps = dict(rows[temperature])
    return t, p, np.array([temps.get(ti, math.nan) or math.nan for ti in t])


def fill(times: list[float], readings: list[dict[str, float | None]]) -> tuple[SampleStore, dict[str, Rows]]:
    store = SampleStore()
    store.restart(["p", "T"])
    rows: dict[str, Rows] = {"p": [], "T": []}
    for t, values in zip(times, readings, strict=True):
        store.append(t, values)
        for name in rows:
            rows[name].append((t, values.get(name)))
    return store, rows


def same(a: npt.NDArray[np.float64] | None, b: npt.NDArray[np.float64] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("ordered", [True, False])
def test_windows_read_as_the_lists_of_tuples_did(ordered: bool) -> None:
    rng = np.random.default_rng(13)
    n = 3 * INITIAL_CAPACITY + 17  # through two doublings
    times = list(np.cumsum(rng.uniform(0.05, 0.15, n)) + 1.7e9)
    # Where one hold ends and the next begins, two samples share a time stamp.
    for i in (5, 6, 400, 2000):
        times[i + 1] = times[i]
    if not ordered:
        times[1000], times[1001] = times[1001], times[1000]
    readings: list[dict[str, float | None]] = []
    for i in range(n):
        p = None if i % 97 == 0 else 2e5 - 0.01 * i + float(rng.normal(0.0, 3.0))
        temp = None if i % 89 == 0 else (0.0 if i % 500 == 3 else 293.15 + float(rng.normal(0.0, 0.01)))
        readings.append({"p": p, "T": temp, "elsewhere": 1.0})
    store, rows = fill(times, readings)
    assert len(store) == n
    for start in (times[0], times[7], times[401], times[1000], times[-1], times[-1] + 1.0):
        for temperature in (None, "T"):
            new = store.window("p", start, temperature)
            old = listed_window(rows, "p", temperature, start)
            assert all(same(a, b) for a, b in zip(new, old, strict=True)), (start, temperature)


def test_a_reading_of_nothing_is_nan_and_every_value_survives_growth() -> None:
    store = SampleStore()
    store.restart(["p"])
    values = [None if i % 3 == 0 else float(i) for i in range(2 * INITIAL_CAPACITY + 1)]
    for i, v in enumerate(values):
        store.append(0.1 * i, {"p": v})
    kept = store.values("p")
    assert [None if math.isnan(v) else v for v in kept.tolist()] == values
    assert store.times().tolist() == [0.1 * i for i in range(len(values))]


def test_a_view_is_read_only_and_outlives_more_samples() -> None:
    store = SampleStore()
    store.restart(["p"])
    for i in range(INITIAL_CAPACITY):
        store.append(float(i), {"p": float(i)})
    view = store.values("p")
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 1.0
    for i in range(INITIAL_CAPACITY, 3 * INITIAL_CAPACITY):  # the columns move twice
        store.append(float(i), {"p": -1.0})
    assert view.tolist() == [float(i) for i in range(INITIAL_CAPACITY)]
    assert store.values("p")[INITIAL_CAPACITY:].tolist() == [-1.0] * (2 * INITIAL_CAPACITY)


def test_only_the_channels_a_step_fits_are_kept_and_a_restart_forgets() -> None:
    store = SampleStore()
    store.restart(["p"])
    store.append(0.0, {"p": 1.0, "T": 293.0})
    with pytest.raises(KeyError):
        store.values("T")
    store.restart([])  # a step that only records
    store.append(1.0, {"p": 2.0})
    assert len(store) == 0 and store.channels == ()
    store.restart(["p", "p", "T"])
    assert store.channels == ("p", "T") and store.times().size == 0
