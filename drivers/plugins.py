"""Plugins by entry points: what installed distributions add to the rig, and what came of it.

A distribution adds instrument models under the entry-point group ``leakrig.instruments``
and step kinds under ``leakrig.steps``; ours are declared the same way in our own
``pyproject.toml``. Each entry point names an object (``module:attribute``): one model or
step class, or a sequence of them. Loading one entry point is one attempt: an entry point
that cannot be imported, names the wrong kind of thing, or declares a name already taken is
recorded as a broken :class:`PluginItem` with its reason in one line, and the others load all
the same.

Our own distribution's entry points load first, then the others by distribution and entry
name, so that a plugin can never take a name of ours: it is the plugin that is refused.
"""

from __future__ import annotations

import importlib.metadata as metadata
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "INSTRUMENTS_GROUP",
    "OWN_DISTRIBUTION",
    "STEPS_GROUP",
    "PluginItem",
    "broken_note",
    "load_group",
]

INSTRUMENTS_GROUP = "leakrig.instruments"
STEPS_GROUP = "leakrig.steps"
OWN_DISTRIBUTION = "leakrig"

ItemKind = Literal["instrument", "step"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginItem:
    """One model or step kind an entry point brought, or one entry point that failed.

    ``name`` is the model's or step kind's name (the entry point's own name when it failed to
    load); ``source`` the distribution that declared it; ``entry_point`` what it declared
    (``name = module:attribute``); ``error`` why it failed (None when ``ok``).
    """

    name: str
    kind: ItemKind
    source: str
    ok: bool
    entry_point: str
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        """The item as ``rig plugins --json`` prints it."""
        out: dict[str, object] = {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "ok": self.ok,
            "entry_point": self.entry_point,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def load_group(group: str, kind: ItemKind, register: Callable[[object], Iterable[str]]) -> list[PluginItem]:
    """Load every entry point of ``group``; ``register`` takes what one names and returns the names it added.

    ``register`` raises (any exception) to refuse what it was given, registering none of it.
    """
    items: list[PluginItem] = []
    for entry in _ordered(metadata.entry_points(group=group)):
        source = entry.dist.name if entry.dist is not None else "unknown"
        declared = f"{entry.name} = {entry.value}"
        try:
            names = list(register(entry.load()))
        # A plugin's import may fail any way at all, even by sys.exit(): that is the point.
        except (Exception, SystemExit) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            item = PluginItem(entry.name, kind, source, False, declared, f"{type(exc).__name__}: {reason}")
            # One line each, and the others load: a lab's broken plugin must not stop the rig.
            _log.warning("%s plugin %r from %s not loaded: %s", kind, entry.name, source, item.error)
            items.append(item)
            continue
        items.extend(PluginItem(name, kind, source, True, declared) for name in names)
    return items


def _ordered(entries: metadata.EntryPoints) -> list[metadata.EntryPoint]:
    def key(entry: metadata.EntryPoint) -> tuple[bool, str, str]:
        source = entry.dist.name if entry.dist is not None else ""
        return (source != OWN_DISTRIBUTION, source, entry.name)

    return sorted(entries, key=key)


def broken_note(items: Iterable[PluginItem]) -> str:
    """What to add to an "unknown model/step" message when plugins failed to load ("" if none did)."""
    broken = [f"{item.name!r} from {item.source}" for item in items if not item.ok]
    if not broken:
        return ""
    return f"; plugin(s) that failed to load: {', '.join(broken)} (see `rig plugins`)"
