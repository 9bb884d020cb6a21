"""Which step kinds the loader accepts: a registry filled by explicit calls.

Our own kinds are registered the way a plugin's are, by :func:`register_step` on the class
(:mod:`rig.steps` does it for the kinds listed in :mod:`rig.steps.library`), so nothing is
found by scanning modules or by subclassing alone: a class is a step kind once it is
registered, and an entry-point loader (issue 16) has only to call the same function.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

from rig.steps.base import Step

S = TypeVar("S", bound=type[Step])

_KINDS: dict[str, type[Step]] = {}


def register_step(cls: S) -> S:
    """Make ``cls`` a step kind the loader accepts under ``cls.kind``; returns it (a decorator too).

    Refused (ValueError) for what the loader could not build or the engine not run: a class
    that is not a frozen dataclass subclass of :class:`Step` of its own (its declarations would
    be ignored), one that does not implement ``run``, one without a ``kind`` that is a name, or
    a kind already taken by another class. Registering the same class again changes nothing.
    """
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise ValueError(f"{cls!r}: a step kind is a subclass of rig.steps.Step")
    params = vars(cls).get("__dataclass_params__")
    if params is None or not params.frozen:
        raise ValueError(f"{cls.__qualname__}: decorate it with @dataclass(frozen=True, kw_only=True)")
    if inspect.isabstract(cls):
        raise ValueError(f"{cls.__qualname__}: a step kind implements run(ctx)")
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind.isidentifier():
        raise ValueError(f"{cls.__qualname__}: a step kind needs a `kind` that is a name, got {kind!r}")
    taken = _KINDS.get(kind)
    if taken is not None and taken is not cls:
        raise ValueError(f"step kind {kind!r} is already {taken.__module__}.{taken.__qualname__}")
    _KINDS[kind] = cls
    return cls


def unregister_step(kind: str) -> None:
    """Forget the kind ``kind`` (a test's own kind, once the test is over); unknown kinds are ignored."""
    _KINDS.pop(kind, None)


def step_kinds() -> dict[str, type[Step]]:
    """The registered kinds, by name (a copy: register through :func:`register_step`)."""
    return dict(_KINDS)
