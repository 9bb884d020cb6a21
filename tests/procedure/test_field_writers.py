"""Each field type writes its SI value back as the YAML its reader takes to the same value, exactly.

The property the Python API (rig.api) rests on: write, then read, is the identity, for every
value a reader can produce (floats in repr precision included) and for every step of every
shipped procedure.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rig.bench import BenchSpec
from rig.located_yaml import loads
from rig.procedure.loader import load_procedure, load_procedure_text
from rig.steps import Step, map_steps, walk
from rig.steps.fields import (
    ANSWER,
    COUNT,
    FRACTION,
    LEAK_RATE,
    PRESSURE,
    TEMPERATURE,
    TEXT,
    TIME,
    VALVE_LIST,
    VALVE_STATES,
    VOLUME,
    FieldType,
    Unwritable,
    choice,
    write_step,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "procedures").glob("*.yaml"))


class _Reader:
    """A field reader of one YAML value, with no bench (names are read as text)."""

    def __init__(self, value: Any) -> None:
        self.doc = loads(yaml.safe_dump({"v": value}), "<written>")
        self.bench: BenchSpec | None = None

    def steps(self, path: tuple[str | int, ...]) -> tuple[Step, ...]:
        raise AssertionError("no nested steps here")


def round_trip(type_: FieldType, value: Any) -> Any:
    return type_.read(_Reader(type_.written(value)), ("v",))


# What a reader can return: positive finite floats (not subnormal), in any unit's range.
POSITIVE = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False)


@given(value=POSITIVE)
def test_quantities_and_leak_rates_round_trip_exactly(value: float) -> None:
    for type_ in (PRESSURE, TIME, VOLUME, TEMPERATURE, LEAK_RATE):
        assert round_trip(type_, value) == value, (type_.name, value, type_.written(value))


@given(value=st.floats(min_value=1e-300, max_value=1.0))
def test_fractions_round_trip_exactly(value: float) -> None:
    assert round_trip(FRACTION, value) == value


@pytest.mark.parametrize(
    ("type_", "value", "written"),
    [
        (PRESSURE, 200000.0, "200000 Pa"),
        (TIME, 0.1 + 0.2, "0.30000000000000004 s"),
        (VOLUME, 1e-3, "0.001 m**3"),
        (TEMPERATURE, 293.15, "293.15 K"),
        (LEAK_RATE, 9.062e-4, "0.0009062 Pa*m**3/s"),
        (TEXT, "decay", "decay"),
        (COUNT, 3, 3),
        (FRACTION, 0.1, 0.1),
        (ANSWER, "no", "no"),
        (choice("decay", "rise"), "rise", "rise"),
        (VALVE_LIST, ("h1", "h2"), ["h1", "h2"]),
        (VALVE_STATES, {"vent": True, "pump": False}, {"vent": "open", "pump": "closed"}),
    ],
)
def test_each_type_writes_what_its_reader_reads(type_: FieldType, value: Any, written: Any) -> None:
    assert type_.written(value) == written
    assert round_trip(type_, value) == value


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (PRESSURE, "2 bar"),
        (TIME, True),
        (TEXT, 3),
        (COUNT, 2.0),
        (ANSWER, True),
        (choice("decay", "rise"), "fall"),
        (VALVE_LIST, "vent"),
        (VALVE_STATES, {"vent": "open"}),
    ],
)
def test_a_value_of_the_wrong_python_type_is_unwritable(type_: FieldType, value: Any) -> None:
    with pytest.raises(Unwritable):
        type_.written(value)


def unlocated(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    return map_steps(steps, lambda s: dataclasses.replace(s, location=""))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_step_of_every_shipped_procedure_writes_back_to_itself(path: Path) -> None:
    loaded = load_procedure(path)
    for section in ("setup", "main", "cleanup"):
        steps: tuple[Step, ...] = getattr(loaded, section)
        document = {"procedure": "again", "version": 1, section: [write_step(s) for s in steps]}
        if section != "main":
            document["main"] = []
        again = load_procedure_text(yaml.safe_dump(document), "<written>", loaded.bench)
        assert unlocated(getattr(again, section)) == unlocated(steps)
        # Every value of every step, nested ones too: the same floats, not merely close ones.
        for before, after in zip(walk(steps), walk(getattr(again, section)), strict=True):
            assert before.fields == after.fields
