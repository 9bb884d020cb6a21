"""``rig run … --sim --json`` in a child process, as a user runs it: the one helper the CLI tests share."""

from __future__ import annotations

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
