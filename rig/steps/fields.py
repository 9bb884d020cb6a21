"""The kinds of field a step declares, and how the validator reads each from the YAML.

A step kind declares its fields on its class (:func:`step_field`): the name written in YAML,
its :class:`FieldType`, whether it may be left out, and the attribute it fills, in SI with the
unit in its name (``to: 2 bar`` fills ``to_pa = 200000.0``). The loader reads every declared
field the same way, so a message about a pressure, a duration or an unknown valve reads the
same in every step, and is located at the value that caused it.

The types (what README.md and the error messages call them):

* ``pressure``, ``time``, ``volume``, ``temperature``: quantities with units, in SI, > 0;
* ``leak_rate``: Pa·m³/s, sccm, mbar·L/s, lb/day … (sccm at 20 °C), > 0;
* ``text``; ``count`` (a whole number ≥ 1); ``fraction`` (a number in (0, 1]);
* ``answer``: yes/no, quoted or bare (YAML 1.1 reads a bare yes/no as a boolean, taken as the
  answer it spells); ``choice`` (:func:`choice`: one of a few words);
* ``volume_ref``, ``channel_ref``, ``valve_ref``: names the bench must have; ``valve_list``
  (valve names), ``valve_states`` (valve name → open/closed, read as True for open);
* ``steps``: a nested list of steps (read by the loader, like the procedure's own sections).

Each type has a *placeholder*: the value a field the validator refused holds while the rest of
its step is still checked (every problem of a file is reported at once). A placeholder counts
for nothing: 0 s, no valves, one pass.

Each type also *writes* its SI value back as the YAML value its reader accepts (``to_pa =
200000.0`` writes ``to: 200000 Pa``; every number in repr precision, so reading it back gives
the same float), which is how a procedure built in Python (:mod:`rig.api`) becomes a document
the same loader validates; and states the values its reader accepts as a JSON Schema fragment
(:mod:`rig.procedure.schema`). A value of the wrong Python type cannot be written:
:class:`Unwritable` says why, with the path of the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from rig.bench import BenchSpec
from rig.errors import InputError
from rig.located_yaml import MAX_INTEGER, Doc
from rig.units import T_TWENTY_C_K, parse_leak_rate

if TYPE_CHECKING:
    from rig.steps.base import Step

Path = tuple[str | int, ...]
# The key under which a dataclass field's declaration is kept in its metadata.
DECLARED = "leakrig.step_field"
# Where the schema of the procedure language (rig.procedure.schema) keeps "any one step": a name
# no kind can take (a kind is a Python identifier, and this has a hyphen).
STEP_SCHEMA_REF = "#/$defs/any-step"


class FieldReader(Protocol):
    """What reading a field needs from the validator: the document, the bench, nested steps."""

    @property
    def doc(self) -> Doc:
        """The procedure file, with the location of every value."""

    @property
    def bench(self) -> BenchSpec | None:
        """The bench the names must exist on (None when it failed to load: names go unchecked)."""

    def steps(self, path: Path) -> tuple[Step, ...]:
        """The steps listed at ``path``, validated like a section's."""


class Unwritable(ValueError):  # noqa: N818 - reads as what it is: a value "unwritable"
    """A field's value that cannot be written as YAML (a Python value of the wrong type).

    ``path`` is where it stands in the step mapping, e.g. ``("fill", "to")``, and grows as the
    error passes out of nested steps (``(0, "fill", "to")``, ``("repeat", "steps", 0, ...)``).
    """

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, *prefix: str | int) -> Unwritable:
        """The same problem, ``prefix`` further out."""
        return Unwritable(self.message, (*prefix, *self.path))


@dataclass(frozen=True)
class FieldType:
    """One kind of field: its name, how it is read (a located error if it cannot be), its placeholder,
    how its SI value is written back as YAML, and the JSON Schema of the YAML values it reads.

    A type declared without ``write`` cannot be written (a step using it can be loaded from YAML
    but not built in Python); without ``schema``, the schema accepts any value for it.
    """

    name: str
    read: Callable[[FieldReader, Path], Any]
    placeholder: Any
    write: Callable[[Any], Any] | None = None
    schema: Mapping[str, Any] | None = None

    def written(self, value: Any) -> Any:
        """``value`` (SI, as the reader fills it) as the YAML value the reader takes back to it."""
        if self.write is None:
            raise Unwritable(f"a {self.name} field cannot be written (its type declares no writer)")
        return self.write(value)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema fragment of the YAML values the reader accepts (``{}``: any)."""
        return {"description": self.name, **(self.schema or {})}


@dataclass(frozen=True)
class Declared:
    """One declared field: its YAML name, its type, the attribute it fills, whether it is optional."""

    name: str
    type: FieldType
    attr: str
    optional: bool

    def placeholder(self) -> Any:
        """The value the attribute holds when the field could not be read (see the module docstring)."""
        return None if self.optional else self.type.placeholder


def step_field(name: str, type_: FieldType, *, optional: bool = False) -> Any:
    """Declare a step's field: ``name`` in YAML, read as ``type_``, into the attribute it is assigned to.

    An optional field holds None when it is not written (the kind says what that means: a vent
    without ``timeout`` waits a minute). Use on a frozen dataclass subclass of
    :class:`rig.steps.Step`::

        to_pa: float = step_field("to", PRESSURE)
        channel: str | None = step_field("channel", CHANNEL_REF, optional=True)
    """
    metadata = {DECLARED: (name, type_, optional)}
    if optional:
        return dataclasses.field(default=None, metadata=metadata)
    return dataclasses.field(metadata=metadata)


def _quantity(kind: str) -> Callable[[FieldReader, Path], float]:
    # A step's durations, pressures (targets, tolerances: absolute pressures or widths),
    # volumes and absolute temperatures are all meaningless at or below zero.
    return lambda reader, path: reader.doc.quantity(path, kind, positive=True)


def _leak_rate(reader: FieldReader, path: Path) -> float:
    doc = reader.doc
    text = doc.text(path)
    try:
        rate = parse_leak_rate(text, "leak rate", pv_temperature_k=T_TWENTY_C_K)
    except InputError as exc:
        raise doc.error(path, str(exc).split(": ", 1)[-1]) from None
    rate = doc.tame(path, rate, text, "leak rate")
    if not rate > 0.0:
        raise doc.error(path, f"a leak-rate limit must be positive, got {text!r}")
    return rate


def _fraction(reader: FieldReader, path: Path) -> float:
    fraction = reader.doc.number(path)
    if not 0.0 < fraction <= 1.0:
        raise reader.doc.error(path, f"expected a fraction in (0, 1], e.g. 0.1 for 10 %, got {fraction:g}")
    return fraction


def _count(reader: FieldReader, path: Path) -> int:
    count = reader.doc.integer(path)
    if count < 1:
        raise reader.doc.error(path, f"expected at least 1, got {count}")
    return count


def _answer(reader: FieldReader, path: Path) -> str:
    # YAML 1.1 reads a bare `yes`/`no` as a boolean: take it as the answer it spells.
    raw = reader.doc.get(path)
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    return reader.doc.choice(path, {"yes", "no"})


def _reference(what: str, names: Callable[[BenchSpec], dict[str, Any]]) -> Callable[[FieldReader, Path], str]:
    def read(reader: FieldReader, path: Path) -> str:
        bench = reader.bench
        if bench is None:
            return reader.doc.text(path)  # the bench failed to load; its own error says why
        return _name(reader.doc, path, names(bench), what, bench)

    return read


def _name(doc: Doc, path: Path, names: dict[str, Any], what: str, bench: BenchSpec) -> str:
    value = doc.text(path)
    if value not in names:
        known = ", ".join(names) or "none"
        raise doc.error(path, f"unknown {what} {value!r} (bench {bench.name!r} has: {known})")
    return value


# Without a bench (it failed to load, and its own error says why) the valve names cannot be
# checked, but the shape of the field can: a list of names, or names mapped to open/closed.
def _valve_list(reader: FieldReader, path: Path) -> tuple[str, ...]:
    doc, bench = reader.doc, reader.bench
    items = doc.sequence(path)
    if not items:
        raise doc.error(path, "expected a list of valves")
    if bench is None:
        return tuple(doc.text((*path, i)) for i in range(len(items)))
    return tuple(_name(doc, (*path, i), bench.valves, "valve", bench) for i in range(len(items)))


def _valve_states(reader: FieldReader, path: Path) -> dict[str, bool]:
    doc, bench = reader.doc, reader.bench
    states = {}
    for valve, vpath in doc.items(path):
        if bench is not None and valve not in bench.valves:
            raise doc.key_error(
                vpath, f"unknown valve {valve!r} (bench {bench.name!r} has: {', '.join(bench.valves)})"
            )
        states[valve] = doc.choice(vpath, {"open", "closed"}) == "open"
    if not states:
        raise doc.error(path, "name at least one valve")
    return states


def write_step(step: Step) -> dict[str, Any]:
    """``step`` as the YAML mapping the loader reads back to it, ``{kind: {field: value}}``.

    The fields left None (optional, not written) are left out; the location is not written (the
    loader gives the step the place it is read from).
    """
    fields: dict[str, Any] = {}
    for d in step.declared():
        value = getattr(step, d.attr)
        if value is None:
            if not d.optional:
                raise Unwritable(f"{d.attr} is required ({d.name!r} has no default)", (step.kind, d.name))
            continue
        try:
            fields[d.name] = d.type.written(value)
        except Unwritable as exc:
            raise exc.within(step.kind, d.name) from None
    return {step.kind: fields}


def _number(value: Any, what: str) -> str:
    """``value`` in repr precision (read back, the same float), whole numbers without ``.0``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unwritable(f"expected {what} (a number), got {value!r}")
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Unwritable(f"expected text, got {value!r}")
    return value


def _quantity_writer(unit: str, what: str) -> Callable[[Any], str]:
    return lambda value: f"{_number(value, f'{what} in {unit}')} {unit}"


def _write_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unwritable(f"expected a whole number, got {value!r}")
    return value


def _write_fraction(value: Any) -> float:
    _number(value, "a fraction")
    return float(value)


def _write_answer(value: Any) -> str:
    if value not in ("yes", "no"):
        raise Unwritable(f"expected 'yes' or 'no', got {value!r}")
    return str(value)


def _write_valve_list(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise Unwritable(f"expected a tuple of valve names, got {value!r}")
    return [_text(v) for v in value]


def _write_valve_states(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise Unwritable(f"expected a mapping of valve name to True (open) or False (closed), got {value!r}")
    out = {}
    for valve, is_open in value.items():
        if not isinstance(is_open, bool):
            raise Unwritable(f"expected True (open) or False (closed) for valve {valve!r}, got {is_open!r}")
        out[_text(valve)] = "open" if is_open else "closed"
    return out


def _write_steps(value: Any) -> list[dict[str, Any]]:
    from rig.steps.base import Step  # base imports this module

    if not isinstance(value, tuple | list):
        raise Unwritable(f"expected a tuple of steps, got {value!r}")
    out = []
    for i, step in enumerate(value):
        if not isinstance(step, Step):
            raise Unwritable(f"expected a step (a rig.steps.Step), got {step!r}", (i,))
        try:
            out.append(write_step(step))
        except Unwritable as exc:
            raise exc.within(i) from None
    return out


# The schemas state what each reader accepts; they are no stricter than it (a document the loader
# reads must validate), and only as strict as it can be without the bench: names are any text.
_TEXT_SCHEMA = {"type": "string", "pattern": "\\S"}
# A quantity is text that starts with its number (the reader refuses "s" alone, and numbers alone),
# and every quantity a step or the procedure declares is positive.
_QUANTITY_PATTERN = "^\\s*\\+?\\s*(\\d|\\.\\d|\\()"


def _quantity_schema(example: str) -> dict[str, Any]:
    return {"type": "string", "pattern": _QUANTITY_PATTERN, "examples": [example]}


def _reference_schema(what: str) -> dict[str, Any]:
    return {**_TEXT_SCHEMA, "description": f"{what} of the bench"}


def choice(*options: str) -> FieldType:
    """A field that is one of ``options`` (the first is its placeholder)."""
    allowed = set(options)

    def write(value: Any) -> str:
        if value not in allowed:
            raise Unwritable(f"expected one of {', '.join(map(repr, options))}, got {value!r}")
        return str(value)

    return FieldType(
        f"choice:{'|'.join(options)}",
        lambda r, p: r.doc.choice(p, allowed),
        options[0],
        write,
        {"type": "string", "enum": list(options)},
    )


PRESSURE = FieldType(
    "pressure", _quantity("pressure"), 0.0, _quantity_writer("Pa", "a pressure"), _quantity_schema("2 bar")
)
TIME = FieldType("time", _quantity("time"), 0.0, _quantity_writer("s", "a time"), _quantity_schema("10 min"))
VOLUME = FieldType(
    "volume", _quantity("volume"), 0.0, _quantity_writer("m**3", "a volume"), _quantity_schema("1 L")
)
TEMPERATURE = FieldType(
    "temperature",
    _quantity("temperature"),
    0.0,
    _quantity_writer("K", "a temperature"),
    _quantity_schema("20 degC"),
)
LEAK_RATE = FieldType(
    "leak_rate",
    _leak_rate,
    0.0,
    _quantity_writer("Pa*m**3/s", "a leak rate"),
    _quantity_schema("0.5 sccm"),
)
TEXT = FieldType("text", lambda r, p: r.doc.text(p), "", _text, _TEXT_SCHEMA)
COUNT = FieldType("count", _count, 1, _write_count, {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER})
FRACTION = FieldType(
    "fraction", _fraction, 1.0, _write_fraction, {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
)
# YAML 1.1 reads a bare yes/no as a boolean, which the reader takes as the answer it spells.
ANSWER = FieldType("answer", _answer, "yes", _write_answer, {"enum": ["yes", "no", True, False]})
VOLUME_REF = FieldType(
    "volume_ref", _reference("volume", lambda b: b.volumes), "", _text, _reference_schema("a volume")
)
CHANNEL_REF = FieldType(
    "channel_ref", _reference("channel", lambda b: b.channels), "", _text, _reference_schema("a channel")
)
VALVE_REF = FieldType(
    "valve_ref", _reference("valve", lambda b: b.valves), "", _text, _reference_schema("a valve")
)
VALVE_LIST = FieldType(
    "valve_list",
    _valve_list,
    (),
    _write_valve_list,
    {"type": "array", "items": _reference_schema("a valve"), "minItems": 1},
)
VALVE_STATES = FieldType(
    "valve_states",
    _valve_states,
    MappingProxyType({}),
    _write_valve_states,
    {"type": "object", "additionalProperties": {"enum": ["open", "closed"]}, "minProperties": 1},
)
STEPS = FieldType(
    "steps",
    lambda r, p: r.steps(p),
    (),
    _write_steps,
    {"type": ["array", "null"], "items": {"$ref": STEP_SCHEMA_REF}},
)
