"""YAML that remembers where everything came from, so errors can say file:line:col.

Loaded with PyYAML's safe composer (no Python tags, ever); duplicate keys and
anchors/aliases are refused (a bench or procedure needs neither, and aliases are how a
"billion laughs" file explodes), whether they mark a mapping, a list or a single value.
:class:`Doc` wraps the loaded data with typed getters that turn every mistake into a
:class:`LocatedError` naming the exact spot.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from rig.errors import InputError
from rig.units import SI_UNITS, parse

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 32
# Whole numbers beyond this are refused: no count or channel needs more, floats lose exactness
# above 2**53, and a 100 000-digit integer is a denial of service, not a setting.
MAX_INTEGER = 2**53
# The smallest magnitude a number or quantity may have (other than zero). Below it floats are
# subnormal: they lose digits, and dividing by one overflows (a 1 s duration over a 1e-320 s
# sample period is infinity). No setting of a rig comes within 290 orders of magnitude of it.
SMALLEST_MAGNITUDE = sys.float_info.min
T = TypeVar("T")


@dataclass(frozen=True)
class Location:
    """A place in a file, 1-based like every editor shows it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class LocatedError(InputError):
    """Bad input at a known place: the message reads ``file:line:col: what is wrong``."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.detail = message


class LocatedProblems(LocatedError):  # noqa: N818 - it is a LocatedError, holding several
    """Several located problems found together, e.g. every unknown and missing key of one mapping.

    It is a :class:`LocatedError` (at the first problem) so callers that expect one still work;
    its text is one ``file:line:col: message`` line per problem, and ``problems`` lists them for
    callers that collect every problem (the procedure checker unpacks it).
    """

    def __init__(self, problems: Sequence[LocatedError]) -> None:
        if not problems:
            raise ValueError("LocatedProblems needs at least one problem")
        super().__init__(problems[0].location, problems[0].detail)
        self.args = ("\n".join(str(p) for p in problems),)
        self.problems = list(problems)


def raise_all(problems: Sequence[LocatedError]) -> None:
    """Raise nothing for no problems, the problem itself for one, :class:`LocatedProblems` for more."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise LocatedProblems(problems)


def attempt(problems: list[LocatedError], check: Callable[[], T]) -> T | None:
    """Run ``check``; its located problems are added to ``problems`` and None returned, so that
    checking goes on and every problem of a file is reported at once."""
    try:
        return check()
    except LocatedProblems as exc:
        problems.extend(exc.problems)
        return None
    except LocatedError as exc:
        problems.append(exc)
        return None


Path_ = tuple[str | int, ...]


class Doc:
    """Loaded YAML data plus the location of every value in it."""

    def __init__(self, data: Any, locations: dict[Path_, Location], file: str) -> None:
        self.data = data
        self._locations = locations  # where each value starts
        self._key_locations: dict[Path_, Location] = {}  # where each mapping key stands
        self.file = file

    def where(self, path: Path_) -> Location:
        """Where ``path`` is (or the nearest enclosing value that exists)."""
        p = tuple(path)
        while p not in self._locations and p:
            p = p[:-1]
        return self._locations.get(p, Location(self.file, 1, 1))

    def error(self, path: Path_, message: str) -> LocatedError:
        """A :class:`LocatedError` at ``path``."""
        return LocatedError(self.where(path), message)

    def key_error(self, path: Path_, message: str) -> LocatedError:
        """A :class:`LocatedError` at the key of ``path`` (or its value if it has no key)."""
        return LocatedError(self._key_locations.get(tuple(path), self.where(path)), message)

    def get(self, path: Path_) -> Any:
        """The raw value at ``path`` (None if absent)."""
        value = self.data
        for part in path:
            in_list = isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value)
            in_map = isinstance(part, str) and isinstance(value, dict) and part in value
            if not (in_list or in_map):
                return None
            value = value[part]
        return value

    def has(self, path: Path_) -> bool:
        """Whether ``path`` exists."""
        return self.get(path) is not None or tuple(path) in self._locations

    def mapping(
        self, path: Path_, allowed: set[str] | None = None, required: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The mapping at ``path`` ({} if absent); unknown or missing keys are errors.

        Every unknown and every missing key is reported at once (as :class:`LocatedProblems` when
        there are several), so one round of fixing clears them all.
        """
        value = self.get(path)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {_kind(value)}")
        problems: list[LocatedError] = []
        if allowed is not None:
            expected = ", ".join(sorted(allowed))
            problems += [
                self.key_error((*path, key), f"unknown key {key!r} (expected one of: {expected})")
                for key in value
                if key not in allowed
            ]
        problems += [self.error(path, f"missing key {key!r}") for key in sorted(required) if key not in value]
        raise_all(problems)
        return value

    def items(self, path: Path_) -> Iterator[tuple[str, Path_]]:
        """(key, path of its value) for the mapping at ``path``."""
        for key in self.mapping(path):
            yield key, (*path, key)

    def sequence(self, path: Path_) -> list[Any]:
        """The list at ``path`` ([] if absent)."""
        value = self.get(path)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {_kind(value)}")
        return value

    def text(self, path: Path_, default: str | None = None) -> str:
        """A string value."""
        value = self.get(path)
        if value is None and default is not None:
            return default
        if isinstance(value, str) and not value.strip():
            raise self.error(path, "expected text, got an empty string")
        if not isinstance(value, str):
            raise self.error(path, f"expected text, got {_kind(value)}")
        return value

    def choice(self, path: Path_, options: set[str], default: str | None = None) -> str:
        """A string that must be one of ``options``."""
        raw = self.get(path)
        if isinstance(raw, bool):
            # YAML 1.1 reads a bare yes/no/on/off/true/false as a boolean: say so, or the
            # "got a boolean" puzzles whoever wrote `on`.
            raise self.error(
                path,
                f"expected text, got {_kind(raw)}: YAML reads a bare yes/no/on/off/true/false as a "
                f"boolean (quote it); write one of: {', '.join(sorted(options))}",
            )
        value = self.text(path, default)
        if value not in options:
            raise self.error(path, f"{value!r} is not one of: {', '.join(sorted(options))}")
        return value

    def integer(self, path: Path_, default: int | None = None) -> int:
        """An integer value."""
        value = self.get(path)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"expected a whole number, got {_kind(value)}")
        if abs(value) > MAX_INTEGER:
            raise self.error(path, f"whole number too large (more than {MAX_INTEGER})")
        return value

    def number(self, path: Path_, default: float | None = None) -> float:
        """A plain number (no units), finite."""
        value = self.get(path)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, f"expected a finite number, got {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:  # a whole number beyond float range (YAML reads 400 digits as an int)
            number = math.inf
        if not math.isfinite(number):
            raise self.error(path, f"expected a finite number, got {_kind(value)}")
        return self.tame(path, number, value, "number")

    def tame(self, path: Path_, value: float, written: Any, what: str) -> float:
        """``value`` (read from ``written`` at ``path``), refused if infinite or subnormal; -0 is 0.

        Every plain number and quantity of a bench or procedure goes through here, so no check or
        computation downstream meets an infinity, a NaN or a subnormal it would choke on.
        """
        if not math.isfinite(value):  # e.g. "1e308 h": finite as written, infinite in seconds
            raise self.error(path, f"{_short(written)} is too large a {what}")
        if value != 0.0 and abs(value) < SMALLEST_MAGNITUDE:
            raise self.error(
                path,
                f"{_short(written)} is too small a {what} to mean anything (below {SMALLEST_MAGNITUDE:.3g})",
            )
        return value + 0.0  # -0.0 + 0.0 is 0.0: a negative zero must not print as "-0"

    def quantity(
        self,
        path: Path_,
        kind: str,
        default: str | None = None,
        *,
        positive: bool = False,
        nonnegative: bool = False,
    ) -> float:
        """A quantity with units (e.g. "50 L") as an SI float of ``kind``, ``positive`` (> 0) or
        ``nonnegative`` (≥ 0: an absolute pressure, an amplitude, a delay) if asked."""
        value = self.get(path)
        if value is None:
            if default is None:
                raise self.error(path, f"missing {kind} (a quantity with units, e.g. in {SI_UNITS[kind]})")
            value = default
        if not isinstance(value, str):
            raise self.error(
                path, f"expected a {kind} with units such as '{_example(kind)}', got {_kind(value)}"
            )
        try:
            q = parse(value, kind)
            si = float(q.to(SI_UNITS[kind]).magnitude)
        except InputError as exc:
            raise self.error(path, str(exc).split(": ", 1)[-1]) from None
        except Exception:  # pint's dimensionality error
            raise self.error(path, f"{value!r} is not a {kind}") from None
        si = self.tame(path, si, value, kind)
        if positive and not si > 0.0:
            raise self.error(path, f"{kind} must be positive, got {value!r}")
        if nonnegative and si < 0.0:
            what = path[-1] if path and isinstance(path[-1], str) else kind
            raise self.error(path, f"{what} cannot be negative, got {value!r}")
        return si


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so a hostile value cannot flood the message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _example(kind: str) -> str:
    examples = {"time": "10 min", "pressure": "2 bar", "volume": "1 L", "temperature": "20 degC"}
    examples |= {"pressure drift": "2 Pa/h", "pressure per temperature": "5 Pa/K"}
    return examples.get(kind, "1 m")


def load(path: str | Path) -> Doc:
    """Load ``path`` safely; every syntax problem is a :class:`LocatedError`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    raw = p.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise LocatedError(Location(str(p), 1, 1), f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocatedError(Location(str(p), 1, 1), f"not UTF-8 text ({exc.reason})") from None
    return loads(text, str(p))


def loads(text: str, file: str = "<string>") -> Doc:
    """Load YAML ``text`` (named ``file`` in errors)."""
    try:
        loader = _AnchorRecordingLoader(text, file)
    except yaml.reader.ReaderError as exc:  # a control character: the reader checks in its constructor
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise LocatedError(
            Location(file, line, col), f"character #x{exc.character:04x} is not allowed"
        ) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        raise LocatedError(where, f"YAML syntax: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise LocatedError(Location(file, 1, 1), f"YAML: {exc}") from None
    finally:
        loader.dispose()
    doc = Doc({}, {}, file)
    if node is not None:
        doc.data = _Converter(file, doc, loader.aliased_at).convert(node, (), Location(file, 1, 1), 0)
    # Converting refuses every alias (at the place it is used); an anchor nothing refers to is
    # harmless but still refused, as promised, so a file never depends on anchors being ignored.
    if loader.anchored_at:
        raise LocatedError(loader.anchored_at[0], "anchors and aliases are not allowed")
    return doc


class _AnchorRecordingLoader(yaml.SafeLoader):
    """The safe loader, noting where each anchor (``&name``) and alias (``*name``) stands.

    Composed nodes forget both: an alias becomes the anchored node itself, at the anchor's place.
    """

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.anchored_at: list[Location] = []  # in document order
        self.aliased_at: list[Location] = []
        self.depth = 0  # of the node being composed (the root is 0, as the converter counts)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # the stubs leave it untyped
        mark = event.start_mark
        where = Location(self.file, mark.line + 1, mark.column + 1) if mark else Location(self.file, 1, 1)
        # An alias event's `anchor` is the name it refers to, not a new anchor.
        if isinstance(event, yaml.AliasEvent):
            self.aliased_at.append(where)
        elif isinstance(event, yaml.NodeEvent) and event.anchor:
            self.anchored_at.append(where)
        # PyYAML composes recursively: "[[[[...]]]]" 100 000 deep is a RecursionError (a crash),
        # so refuse the nesting here, as the converter would, before Python's stack runs out.
        if self.depth > MAX_DEPTH:
            raise LocatedError(where, f"nested more than {MAX_DEPTH} levels deep")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class _Converter:
    """Turns composed nodes into plain data, recording where each value and key stands."""

    def __init__(self, file: str, doc: Doc, aliases: list[Location]) -> None:
        self.file = file
        self.doc = doc
        self.seen: set[int] = set()
        self.aliases = aliases  # where each alias stands, in document order

    def at(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def visit(self, node: yaml.Node, mention: Location | None) -> None:
        """Note ``node`` as converted; meeting it again means an alias (the composer shares the node).

        The error stands at ``mention``, or (None) at the alias itself: conversion walks the file
        in order and an anchor comes before its aliases, so the first node met twice is the
        file's first alias.
        """
        if id(node) in self.seen:
            where = mention or (self.aliases[0] if self.aliases else self.at(node))
            raise LocatedError(where, "anchors and aliases are not allowed")
        self.seen.add(id(node))

    def convert(self, node: yaml.Node, path: Path_, mention: Location | None, depth: int) -> Any:
        """``mention`` is where the value is referred to (its key; None: itself), for alias errors."""
        where = self.at(node)
        self.doc._locations[path] = where
        # Every kind of node, scalars included: an alias of a plain value repeats it as silently
        # as an alias of a mapping does.
        self.visit(node, mention)
        if depth > MAX_DEPTH:
            raise LocatedError(where, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, _MAP_TAG)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_at = self.at(key_node)
                self.visit(key_node, None)
                key = self.scalar(key_node)
                if not isinstance(key, str):
                    raise LocatedError(key_at, f"keys must be text, got {_kind(key)}")
                if key in out:
                    raise LocatedError(key_at, f"duplicate key {key!r}")
                self.doc._key_locations[(*path, key)] = key_at
                out[key] = self.convert(value_node, (*path, key), key_at, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, _SEQ_TAG)
            return [self.convert(v, (*path, i), None, depth + 1) for i, v in enumerate(node.value)]
        return self.scalar(node)

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise LocatedError(self.at(node), f"tag {node.tag!r} is not allowed")

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise LocatedError(self.at(node), "expected a plain value here")
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise LocatedError(self.at(node), f"cannot read value ({str(exc).splitlines()[0]})") from None
        except ValueError:  # an integer of more than 4300 digits (Python's int() limit)
            raise LocatedError(self.at(node), "number too large") from None
        finally:
            loader.dispose()
