"""Rich consoles for the commands' output that meet a reader gone away the way ``rig`` does.

Rich's own answer to a closed pipe is ``SystemExit(1)``, with stdout sent to devnull; to
``rig run`` 1 means FAIL, and raised from the live view it would leave a run before its
safe state. Here the output goes quiet instead: on stdout by Python's BrokenPipeError,
which :func:`rig.cli.main` turns into a quiet exit 141; on stderr (the live view, a
courtesy) silently, so that the run goes on to its end.
"""

from __future__ import annotations

import contextlib
import errno
import os

from rich.console import Console


class _OutputConsole(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


class _StatusConsole(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            # Later lines to stderr (a final error) would fail the same way: they go nowhere now.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(devnull, self.file.fileno())
        finally:
            os.close(devnull)


def output_console() -> Console:
    """A console on stdout for a command's result (tables)."""
    return _OutputConsole()


def status_console() -> Console:
    """A console on stderr for progress and status that must never stop the command."""
    return _StatusConsole(stderr=True)
