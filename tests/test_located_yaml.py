"""YAML with locations: every mistake names its file, line and column."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.located_yaml import LocatedError, LocatedProblems, load, loads


def error_of(text: str) -> str:
    with pytest.raises(LocatedError) as info:
        loads(text, "bench.yaml")
    return str(info.value)


def test_values_and_their_locations() -> None:
    doc = loads("name: mockup\nvolumes:\n  chamber: {size: 50 L}\n", "bench.yaml")
    assert doc.text(("name",)) == "mockup"
    assert doc.quantity(("volumes", "chamber", "size"), "volume") == pytest.approx(0.05)
    assert str(doc.where(("volumes", "chamber", "size"))) == "bench.yaml:3:19"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", "bench.yaml:2:1: duplicate key 'a'"),
        ("a: &x [1]\nb: *x\n", "bench.yaml:2:1: anchors and aliases are not allowed"),
        # Scalars too: an alias of a plain value repeats it as silently as one of a mapping.
        ("a: &x 1 s\nb: *x\n", "bench.yaml:2:1: anchors and aliases are not allowed"),
        ("a: [&x 1, *x]\n", "bench.yaml:1:11: anchors and aliases are not allowed"),
        ("&k a: 1\n*k : 2\n", "bench.yaml:2:1: anchors and aliases are not allowed"),
        # An anchor nothing refers to is refused at the anchor.
        ("a: 1\nb: &unused 2\n", "bench.yaml:2:4: anchors and aliases are not allowed"),
        ("a: !!python/object:os.system {}\n", "bench.yaml:1:4: tag"),
        ("a: !!python/name:os.system\n", "bench.yaml:1:4: cannot read value"),
        ("a: [1, 2\n", "bench.yaml:2:1: YAML syntax"),
        ("a:\n  - b: {c: [}\n", "bench.yaml:2:13: YAML syntax"),
    ],
)
def test_syntax_and_safety_errors_are_located(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_typed_getters_report_where_the_value_is() -> None:
    doc = loads("v:\n  size: 50\n  other: x\nn: true\nt: '-3 s'\n", "b.yaml")
    with pytest.raises(LocatedError, match=r"^b.yaml:2:9: expected a volume with units"):
        doc.quantity(("v", "size"), "volume")
    with pytest.raises(LocatedError, match=r"^b.yaml:3:3: unknown key 'other'"):
        doc.mapping(("v",), allowed={"size"})
    with pytest.raises(LocatedError, match=r"^b.yaml:4:4: expected a whole number"):
        doc.integer(("n",))
    with pytest.raises(LocatedError, match=r"^b.yaml:5:4: time must be positive"):
        doc.quantity(("t",), "time", positive=True)
    with pytest.raises(LocatedError, match=r"^b.yaml:1:1: missing key 'w'"):
        doc.mapping((), required=frozenset({"w"}))


def test_deep_nesting_is_refused() -> None:
    assert "nested more than" in error_of("a: " + "[" * 40 + "]" * 40 + "\n")


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rig.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "absent.yaml")


def test_a_mapping_reports_every_unknown_and_missing_key_at_once() -> None:
    doc = loads("v:\n  size: 1 L\n  colour: red\n  shape: round\n", "b.yaml")
    with pytest.raises(LocatedProblems) as info:
        doc.mapping(("v",), allowed={"size", "uncertainty", "name"}, required=frozenset({"name", "size"}))
    assert [str(p) for p in info.value.problems] == [
        "b.yaml:3:3: unknown key 'colour' (expected one of: name, size, uncertainty)",
        "b.yaml:4:3: unknown key 'shape' (expected one of: name, size, uncertainty)",
        "b.yaml:2:3: missing key 'name'",
    ]
    # Still a LocatedError at the first problem, whose text is one line per problem.
    assert isinstance(info.value, LocatedError)
    assert str(info.value.location) == "b.yaml:3:3"
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]


def test_a_single_bad_key_is_a_plain_located_error() -> None:
    doc = loads("v: {size: 1 L, colour: red}\n", "b.yaml")
    with pytest.raises(LocatedError) as info:
        doc.mapping(("v",), allowed={"size"})
    assert type(info.value) is LocatedError
    assert str(info.value) == "b.yaml:1:16: unknown key 'colour' (expected one of: size)"


def test_located_problems_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LocatedProblems([])


def test_a_choice_read_as_a_boolean_says_why() -> None:
    doc = loads("valve: on\n", "b.yaml")
    with pytest.raises(LocatedError) as info:
        doc.choice(("valve",), {"open", "closed"})
    message = str(info.value)
    assert message.startswith("b.yaml:1:8: expected text, got a boolean (True)")
    assert "quote it" in message and "closed, open" in message


# --- any number at all: a normal finite value, or one located error (never another exception) -----

UNITS = {
    "time": ["s", "ms", "h", "d"],
    "pressure": ["Pa", "mbar", "bar", "Torr"],
    "volume": ["L", "m**3", "um**3"],
    "temperature": ["K", "degC"],
    "length": ["um", "m"],
    "area": ["mm**2"],
    "conductance": ["L/s", "m**3/s"],
    "leak rate": ["Pa*m**3/s", "mbar*L/s"],
}
EDGES = ["1e-320", "5e-324", "-5e-324", "1e400", "-1e400", "inf", "-inf", "nan", "-0", "-0.0", "1e308",
         "1.7976931348623157e308", "2.2250738585072014e-308", "9" * 400, "1e-400", "0x10", "1_0"]  # fmt: skip


def assert_tame(value: float) -> None:
    """Finite, not subnormal, and never a negative zero."""
    assert math.isfinite(value)
    assert value == 0.0 or abs(value) >= sys.float_info.min
    assert math.copysign(1.0, value) > 0.0 or value < 0.0


def quantity_or_located(text: str, kind: str, **options: bool) -> float | None:
    try:
        value = loads(f"x: '{text}'\n", "n.yaml").quantity(("x",), kind, **options)
    except LocatedError as exc:
        assert str(exc).startswith("n.yaml:1:4: "), str(exc)
        return None
    assert_tame(value)
    return value


@pytest.mark.parametrize("kind", list(UNITS))
@pytest.mark.parametrize("number", EDGES)
def test_a_quantity_at_the_edges_of_floating_point_is_tame_or_located(number: str, kind: str) -> None:
    for unit in UNITS[kind]:
        for options in ({}, {"positive": True}, {"nonnegative": True}):
            value = quantity_or_located(f"{number} {unit}", kind, **options)
            if value is not None and options:
                assert value > 0.0 if "positive" in options else value >= 0.0


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.floats(), st.integers(-(10**400), 10**400), st.floats(width=32)),
    st.sampled_from(sorted(UNITS)),
    st.data(),
)
def test_any_number_in_a_quantity_is_tame_or_located(number: float, kind: str, data: st.DataObject) -> None:
    unit = data.draw(st.sampled_from(UNITS[kind]))
    quantity_or_located(f"{number!r} {unit}", kind)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.floats(), st.integers(-(10**400), 10**400)))
def test_any_plain_number_is_tame_or_located(number: float) -> None:
    text = {math.inf: ".inf", -math.inf: "-.inf"}.get(number, "") or (
        ".nan" if number != number else repr(number)
    )
    doc = loads(f"x: {text}\n", "n.yaml")
    try:
        value = doc.number(("x",))
    except LocatedError as exc:
        assert str(exc).startswith("n.yaml:1:4: "), str(exc)
        return
    assert_tame(value)


def test_a_negative_zero_reads_as_zero() -> None:
    assert math.copysign(1.0, loads("x: -0.0\n").number(("x",))) == 1.0
    assert math.copysign(1.0, loads("x: '-0 Pa'\n").quantity(("x",), "pressure")) == 1.0
