"""Fault windows on the simulation clock."""

from __future__ import annotations

import pytest

from rig.clock import VirtualClock
from rig.sim.faults import Fault, FaultSchedule


def test_fault_is_active_only_in_its_window() -> None:
    clock = VirtualClock()
    schedule = FaultSchedule([Fault("gauges", "timeout", at_s=10.0, duration_s=5.0)], clock.now)
    view = schedule.for_instrument("gauges")
    assert view.active("timeout") is None
    clock.advance(10.0)
    assert view.active("timeout") == 0.0
    assert schedule.for_instrument("daq").active("timeout") is None
    assert view.active("garbled") is None
    clock.advance(5.0)
    assert view.active("timeout") is None


def test_channel_specific_faults_and_magnitudes() -> None:
    clock = VirtualClock(start_s=100.0)
    schedule = FaultSchedule(
        [
            Fault("baratron", "zero_shift", at_s=50.0, channel=1, magnitude=12.5),
            Fault("daq", "latency", at_s=0.0, magnitude=0.2),
        ],
        clock.now,
    )
    shift = schedule.active("baratron", "zero_shift", channel=1)
    assert shift is not None and shift.magnitude == 12.5
    assert schedule.active("baratron", "zero_shift", channel=2) is None
    assert schedule.for_instrument("daq").active("latency") == 0.2


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("gauges", "meteor", at_s=0.0)
    with pytest.raises(ValueError, match="duration"):
        Fault("gauges", "timeout", at_s=0.0, duration_s=0.0)
