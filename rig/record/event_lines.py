"""The lines of a run's ``events.jsonl`` as objects: the one reader of that file's format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def event_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each event object of ``path`` in order, with a numeric time ``t``; a line a crash cut short
    (or anything else that is no such object) is skipped. Raises what reading the file raises
    (``FileNotFoundError``, ``UnicodeDecodeError``)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("t"), int | float):
            yield event
