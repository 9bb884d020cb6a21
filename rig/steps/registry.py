"""Which step kinds the loader accepts: a registry filled through entry points and explicit calls.

Every kind is registered by :func:`register_step` on its class, so nothing is found by scanning
modules or by subclassing alone. The ``leakrig.steps`` entry points (ours, naming
:data:`rig.steps.library.BUILTIN_STEPS`, and every plugin's) are loaded the first time the kinds
are asked for, not when this package is imported: a plugin module that imports :mod:`rig.steps`
to define its kind is then whole before its entry point is loaded (loading at import time made a
module bringing both a model and a step kind import itself half-way).
"""

from __future__ import annotations

import inspect
from typing import TypeVar

from drivers.plugins import STEPS_GROUP, PluginItem, load_group
from rig.steps.base import Step

S = TypeVar("S", bound=type[Step])

_KINDS: dict[str, type[Step]] = {}
# What each entry point brought, once loaded (None: not yet; loading: being loaded now).
_PLUGINS: list[PluginItem] | None = None


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
    _load_entry_points()
    return dict(_KINDS)


def step_plugins() -> list[PluginItem]:
    """What every ``leakrig.steps`` entry point brought (ours included), or why it brought nothing."""
    _load_entry_points()
    return list(_PLUGINS or ())


def _load_entry_points() -> None:
    global _PLUGINS
    if _PLUGINS is not None:
        return
    _PLUGINS = []  # before loading: a plugin asking for the kinds while it loads sees those so far
    _PLUGINS.extend(load_group(STEPS_GROUP, "step", _register_entry))


def _register_entry(declared: object) -> list[str]:
    """Register what one ``leakrig.steps`` entry point names: a step class or a list/tuple of them.

    All of its kinds or none: the ones added before a refusal are taken back.
    """
    given: list[object] = list(declared) if isinstance(declared, list | tuple) else [declared]
    classes: list[type[Step]] = []
    for cls in given:
        if not (isinstance(cls, type) and issubclass(cls, Step)):
            raise TypeError(f"expected a subclass of rig.steps.Step, got {cls!r}")
        classes.append(cls)
    added: list[str] = []
    try:
        for cls in classes:
            new = cls.kind not in _KINDS
            register_step(cls)
            if new:
                added.append(cls.kind)
    except BaseException:
        for kind in added:
            unregister_step(kind)
        raise
    return [cls.kind for cls in classes]
