"""Conventions every driver keeps (PyMeasure's meta-test idea): documented, typed, SI units in names.

Each check returns the problems it found, one line each (empty: the class keeps the
convention), so that a test can assert on them and a failure names every offender at once.
Only the members a class defines itself are looked at: what it inherits is its base's affair.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from drivers.roles import missing_methods

__all__ = [
    "UNIT_SUFFIXES",
    "floats_without_units",
    "open_problems",
    "public_members",
    "role_problems",
    "undocumented_or_untyped",
]

#: How a public name returning a bare float says its unit: SI (or SI-derived) suffixes, ``volts``.
UNIT_SUFFIXES = ("_pa", "_k", "_v", "_s", "_m3", "_mol", "_a", "_hz", "_w", "volts")


def public_members(cls: type) -> list[tuple[str, object]]:
    """The public methods and properties ``cls`` defines itself, with their names."""
    own = [(name, value) for name, value in vars(cls).items() if not name.startswith("_")]
    return [(n, v) for n, v in own if callable(v) or isinstance(v, property | classmethod | staticmethod)]


def _function(member: object) -> Callable[..., Any]:
    func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
    assert callable(func)
    return func


def undocumented_or_untyped(cls: type) -> list[str]:
    """The class or a public member of it without a docstring, a return type or a parameter's type."""
    problems = [] if cls.__doc__ and cls.__doc__.strip() else [f"{cls.__name__} has no docstring"]
    for name, member in public_members(cls):
        func = _function(member)
        if not (func.__doc__ and func.__doc__.strip()):
            problems.append(f"{cls.__name__}.{name} has no docstring")
        signature = inspect.signature(func)
        if signature.return_annotation is inspect.Signature.empty:
            problems.append(f"{cls.__name__}.{name} has no return type")
        for pname, param in signature.parameters.items():
            if pname in ("self", "cls") or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            if param.annotation is inspect.Parameter.empty:
                problems.append(f"{cls.__name__}.{name}({pname}) is untyped")
    return problems


def floats_without_units(cls: type) -> list[str]:
    """Public members returning a bare float whose name does not end in a unit (:data:`UNIT_SUFFIXES`)."""
    return [
        f"{cls.__name__}.{name} returns a float without a unit in its name"
        for name, member in public_members(cls)
        if inspect.signature(_function(member)).return_annotation in (float, "float")
        and not name.endswith(UNIT_SUFFIXES)
    ]


def open_problems(cls: type) -> list[str]:
    """Whether ``cls`` opens from a resource name: an ``open`` classmethod taking ``timeout_s``."""
    if not isinstance(inspect.getattr_static(cls, "open", None), classmethod):
        return [f"{cls.__name__} has no open() classmethod"]
    if "timeout_s" not in inspect.signature(cls.open).parameters:  # type: ignore[attr-defined]
        return [f"{cls.__name__}.open() takes no timeout_s"]
    return []


def role_problems(cls: type, kind: str) -> list[str]:
    """The methods ``cls`` lacks for the role protocol(s) of a model of ``kind`` (drivers.roles)."""
    return [f"{cls.__name__} lacks {name}() for a {kind}" for name in missing_methods(cls, kind)]
