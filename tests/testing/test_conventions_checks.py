"""The kit's class checks: each finds what it is for, and nothing in a class that keeps the conventions."""

from __future__ import annotations

from typing import Any

from drivers.base import Instrument
from drivers.readings import PressureReading
from drivers.tpg36x import Tpg36x
from rig.testing import floats_without_units, open_problems, role_problems, undocumented_or_untyped


class Careless(Instrument):
    def read(self, channel):  # type: ignore[no-untyped-def]
        return PressureReading(channel, None, None)  # type: ignore[arg-type]

    def pressure(self, channel: int) -> float:
        """A float without its unit."""
        return 0.0

    def identity(self) -> str:
        """Who."""
        return "careless"


class Closed(Instrument):
    """Opens from nothing."""

    @staticmethod
    def open(resource_name: str, **options: Any) -> Closed:
        """No timeout."""
        raise NotImplementedError


def test_a_careless_driver_is_caught_on_every_count() -> None:
    assert undocumented_or_untyped(Careless) == [
        "Careless has no docstring",
        "Careless.read has no docstring",
        "Careless.read has no return type",
        "Careless.read(channel) is untyped",
    ]
    assert floats_without_units(Careless) == ["Careless.pressure returns a float without a unit in its name"]
    assert open_problems(Careless) == ["Careless has no open() classmethod"]
    assert open_problems(Closed) == ["Closed has no open() classmethod"]
    assert role_problems(Careless, "gauge") == [
        "Careless lacks read_all() for a gauge",
        "Careless lacks unit() for a gauge",
    ]
    assert role_problems(Careless, "daq")[0] == "Careless lacks close_relays() for a daq"


def test_a_shipped_driver_keeps_them() -> None:
    assert undocumented_or_untyped(Tpg36x) == []
    assert floats_without_units(Tpg36x) == []
    assert open_problems(Tpg36x) == []
    assert role_problems(Tpg36x, "gauge") == []
