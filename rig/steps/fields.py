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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from rig.bench import BenchSpec
from rig.errors import InputError
from rig.located_yaml import Doc
from rig.units import T_TWENTY_C_K, parse_leak_rate

if TYPE_CHECKING:
    from rig.steps.base import Step

Path = tuple[str | int, ...]
# The key under which a dataclass field's declaration is kept in its metadata.
DECLARED = "leakrig.step_field"


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


@dataclass(frozen=True)
class FieldType:
    """One kind of field: its name, how it is read (a located error if it cannot be), its placeholder."""

    name: str
    read: Callable[[FieldReader, Path], Any]
    placeholder: Any


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


def choice(*options: str) -> FieldType:
    """A field that is one of ``options`` (the first is its placeholder)."""
    allowed = set(options)
    return FieldType(f"choice:{'|'.join(options)}", lambda r, p: r.doc.choice(p, allowed), options[0])


PRESSURE = FieldType("pressure", _quantity("pressure"), 0.0)
TIME = FieldType("time", _quantity("time"), 0.0)
VOLUME = FieldType("volume", _quantity("volume"), 0.0)
TEMPERATURE = FieldType("temperature", _quantity("temperature"), 0.0)
LEAK_RATE = FieldType("leak_rate", _leak_rate, 0.0)
TEXT = FieldType("text", lambda r, p: r.doc.text(p), "")
COUNT = FieldType("count", _count, 1)
FRACTION = FieldType("fraction", _fraction, 1.0)
ANSWER = FieldType("answer", _answer, "yes")
VOLUME_REF = FieldType("volume_ref", _reference("volume", lambda b: b.volumes), "")
CHANNEL_REF = FieldType("channel_ref", _reference("channel", lambda b: b.channels), "")
VALVE_REF = FieldType("valve_ref", _reference("valve", lambda b: b.valves), "")
VALVE_LIST = FieldType("valve_list", _valve_list, ())
VALVE_STATES = FieldType("valve_states", _valve_states, MappingProxyType({}))
STEPS = FieldType("steps", lambda r, p: r.steps(p), ())
