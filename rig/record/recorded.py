"""Values read back from a record, each as its type or None: a record may hold anything.

Older records lack fields, and a file a person or a disk damaged may hold a string where a
number belongs. A reader takes what has the right type and reads the rest as None ("not
recorded"), never as a guess. Numbers keep their type and value as recorded (an int stays
an int, NaN and infinities stay: JSON as Python writes it holds them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def number(value: object) -> float | None:
    """``value`` if it is a number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def integer(value: object) -> int | None:
    """``value`` if it is an integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(value: object) -> str | None:
    """``value`` if it is a string, else None."""
    return value if isinstance(value, str) else None


def flag(value: object) -> bool | None:
    """``value`` if it is a bool, else None."""
    return value if isinstance(value, bool) else None


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def pair(value: object) -> tuple[float, float] | None:
    """``value`` as two numbers if it is a sequence of two numbers (a window, an interval), else None."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        return None
    first, second = number(value[0]), number(value[1])
    return None if first is None or second is None else (first, second)
