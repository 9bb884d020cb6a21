"""Starting commands as a user's shell would: Ctrl-C (SIGINT) and SIGQUIT at their default actions."""

from __future__ import annotations

import signal


def as_from_a_shell() -> None:
    """A ``preexec_fn``: the child takes SIGINT and SIGQUIT as a shell's child does.

    A child inherits the signals its parent ignores, and a test worker was seen with SIGINT and
    SIGQUIT ignored behind Python's back (C code in another thread; see tests/conftest.py): a `rig`
    started then never saw its Ctrl-C, and Python installs no KeyboardInterrupt for an ignored SIGINT.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
