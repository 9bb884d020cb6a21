"""What the services share: their error, and how long a service may take to start."""

from __future__ import annotations

from pathlib import Path

# Bounded waits: a service that is not up by then is reported, with the end of its log.
START_TIMEOUT_S = 60.0
LOG_LINES = 12


class ServiceError(RuntimeError):
    """A service did not start; the message is one line, then the end of its log."""


def log_tail(log: Path, lines: int = LOG_LINES) -> str:
    """The last ``lines`` lines of ``log``, indented, after a line naming it (or that it is missing)."""
    try:
        text = log.read_text(errors="replace").rstrip().splitlines()
    except OSError as exc:
        return f"\n  ({log}: {exc.strerror})"
    if not text:
        return f"\n  ({log} is empty)"
    return f"\n  last lines of {log}:\n" + "\n".join(f"    {line}" for line in text[-lines:])
