"""Typed steps written as the procedure document the loader reads, and its problems named back.

A procedure built in Python (:mod:`rig.api`) is not validated by code of its own: its steps are
written with their fields' writers (:meth:`rig.steps.fields.FieldType.written`) as a YAML
document, which :func:`rig.procedure.loader.load_procedure_text` validates like any file, and
which the run keeps as its ``procedure.yaml``. What the loader finds wrong is located in that
generated text, which the Python author never wrote: :func:`named` says which step (section,
index, kind) and which attribute each problem is about, in the author's own terms::

    <python:leak_check>:9:9: main[1] (fill) to_pa: pressure must be positive, got '-5 Pa'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from rig.located_yaml import Doc, LocatedError, Location
from rig.steps import Step, step_kinds
from rig.steps.fields import STEPS, TIME, Unwritable

Path_ = tuple[str | int, ...]
# The document's keys that rig.api.procedure takes under another name.
TOP_ATTRIBUTES = {"sample_period": "sample_period_s", "procedure": "name"}
HEADER = "# Built in Python (rig.api): the typed steps as the loader reads them, every number in SI.\n"


def write_procedure(
    name: str,
    sections: Mapping[str, Sequence[Step]],
    *,
    bench: str | None = None,
    sample_period_s: float = 1.0,
    gas: str | None = None,
    description: str = "",
) -> str:
    """The procedure document (YAML text) of ``sections`` (``setup``, ``main``, ``cleanup``).

    Raises :class:`Unwritable` (its ``path`` from the section on, e.g. ``("main", 1, "fill",
    "to")``) for a value of the wrong Python type.
    """
    document: dict[str, Any] = {"procedure": name, "version": 1}
    if bench is not None:
        document["bench"] = bench
    if description:
        document["description"] = description
    try:
        document["sample_period"] = TIME.written(sample_period_s)
    except Unwritable as exc:
        raise exc.within("sample_period") from None
    if gas is not None:
        document["gas"] = gas
    for section, steps in sections.items():
        try:
            document[section] = STEPS.written(tuple(steps))
        except Unwritable as exc:
            raise exc.within(section) from None
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return HEADER + text


def named(problem: LocatedError, doc: Doc) -> LocatedError:
    """``problem``, located in the generated ``doc``, with the step and attribute it is about first."""
    where = _Places(doc).path_at(problem.location)
    if not where:
        return problem
    return LocatedError(problem.location, f"{describe(where)}: {problem.detail}")


def unwritable(problem: Unwritable, source: str) -> LocatedError:
    """A value that could not be written, as a problem of the procedure ``source`` (no line: no text)."""
    located = LocatedError(Location(source, 1, 1), f"{describe(problem.path)}: {problem.message}")
    located.args = (f"{source}: {describe(problem.path)}: {problem.message}",)
    return located


def describe(path: Path_) -> str:
    """A path in the document in a Python author's terms: ``main[1] (fill) to_pa``.

    Each step is its index in its section (or in its container's field) and its kind; a field
    is the attribute it fills, which is what the author wrote (``to_pa``, not ``to``).
    """
    words: list[str] = []
    kinds = step_kinds()
    cls: type[Step] | None = None
    i = 0
    while i < len(path):
        part = path[i]
        word = _attribute(cls, part) if cls is not None else TOP_ATTRIBUTES.get(str(part), str(part))
        if i + 1 < len(path) and isinstance(path[i + 1], int):  # a list of steps, an index into it
            kind = path[i + 2] if i + 2 < len(path) else None
            words.append(f"{word}[{path[i + 1]}]" + (f" ({kind})" if isinstance(kind, str) else ""))
            cls = kinds.get(kind) if isinstance(kind, str) else None
            i += 3
        else:
            words.append(word)
            i += 1
    return " ".join(words)


def _attribute(cls: type[Step], field: str | int) -> str:
    for d in cls.declared():
        if d.name == field:
            return d.attr
    return str(field)


class _Places:
    """Which path of ``doc`` stands at each location: a value's first, else a key's."""

    def __init__(self, doc: Doc) -> None:
        self.values: dict[Location, Path_] = {}
        self.keys: dict[Location, Path_] = {}
        for path in _paths(doc.data, ()):
            _keep_longest(self.values, doc.where(path), path)
            if path and isinstance(path[-1], str):
                _keep_longest(self.keys, doc.key_error(path, "").location, path)

    def path_at(self, location: Location) -> Path_:
        return self.values.get(location) or self.keys.get(location) or ()


def _keep_longest(places: dict[Location, Path_], location: Location, path: Path_) -> None:
    if len(path) > len(places.get(location, ())):
        places[location] = path


def _paths(value: Any, path: Path_) -> Iterator[Path_]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))
