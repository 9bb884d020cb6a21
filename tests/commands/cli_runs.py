"""``rig run … --sim --json`` in a child process, as a user runs it: the one helper the CLI tests share.

:func:`rig_run_sim_here` is the same command through :func:`rig.cli.main` in this process, for the
tests of what a run finds on a bench rather than of the command line (a child costs a second of
interpreter start and imports each time).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def rig_run_sim(procedure: Path, data_dir: Path, *extra: str) -> tuple[dict[str, Any], Path]:
    """Run ``procedure`` on its simulated bench into ``data_dir`` (``extra``: more flags, e.g. a
    seed); its JSON line and its run directory. The run must end with exit code 0."""
    argv = ["run", str(procedure), "--sim", *extra, "--data-dir", str(data_dir), "--yes", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "rig", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, Path(result["run_dir"])


def rig_run_sim_here(
    procedure: Path, data_dir: Path, *extra: str, code: int = 0
) -> tuple[dict[str, Any], Path]:
    """:func:`rig_run_sim` through ``rig.cli.main`` in this process; the run must exit with ``code``."""
    from rig.cli import main

    argv = ["run", str(procedure), "--sim", *extra, "--data-dir", str(data_dir), "--yes", "--json"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        got = main(argv)
    assert got == code, err.getvalue()
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    return result, Path(result["run_dir"])
