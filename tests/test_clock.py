"""Clocks: virtual time moves only when told; scaled time runs at a multiple of real time."""

from __future__ import annotations

import threading
import time

import pytest

from rig.clock import ScaledClock, VirtualClock, WallClock


def test_virtual_clock_moves_only_when_advanced() -> None:
    clock = VirtualClock(start_s=100.0)
    assert clock.now() == 100.0
    clock.sleep(86400.0)  # a day, instantly
    assert clock.now() == 86500.0
    clock.sleep(-5.0)
    assert clock.now() == 86500.0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1.0)


def test_virtual_clock_is_safe_across_threads() -> None:
    clock = VirtualClock()

    def step() -> None:
        for _ in range(1000):
            clock.advance(0.5)

    threads = [threading.Thread(target=step) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10.0)
    assert clock.now() == 2000.0


def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = ScaledClock(speed=1000.0)
    wall0 = time.monotonic()
    clock.sleep(50.0)  # 50 simulated seconds = 50 ms of real time
    elapsed = time.monotonic() - wall0
    assert elapsed >= 0.05
    assert clock.now() >= 50.0
    with pytest.raises(ValueError):
        ScaledClock(speed=0.0)


def test_wall_clock_is_monotonic() -> None:
    clock = WallClock()
    a = clock.now()
    clock.sleep(0.0)
    assert clock.now() >= a >= 0.0
