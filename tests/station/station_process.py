"""A real ``rig station`` in a subprocess, its first line read, stopped by a signal."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.processes import as_from_a_shell

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 60.0


class StationProcess:
    """``rig station --bench BENCH --sim --data-dir DATA``, its first line parsed (``url``, ``token``)."""

    def __init__(
        self,
        data_dir: Path,
        *extra: str,
        bench: Path = BENCH,
        env: dict[str, str] | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> None:
        self.data_dir = data_dir
        self.stdin = stdin
        self.env = {**os.environ, **(env or {})}
        self.args = [
            sys.executable,
            "-m",
            "rig",
            "station",
            "--bench",
            str(bench),
            "--sim",
            "--data-dir",
            str(data_dir),
            *extra,
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.first: dict[str, Any] = {}
        self.stderr = ""

    @property
    def url(self) -> str:
        """The page's address."""
        return str(self.first["url"])

    @property
    def token(self) -> str:
        """The operator's token."""
        return str(self.first["token"])

    def __enter__(self) -> StationProcess:
        # stderr to a file: a pipe nobody reads until the end could fill and stall the station.
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=self.stdin,
            preexec_fn=as_from_a_shell,  # stopped by SIGINT, as Ctrl-C stops it
            cwd=ROOT,
            env=self.env,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise AssertionError(f"rig station printed no first line: {self.stderr}")
        self.first = json.loads(line)
        return self

    def client(self, *, operator: bool) -> httpx.Client:
        """An HTTP client of the station (with the token in its header when ``operator``)."""
        headers = {"Authorization": f"Bearer {self.token}"} if operator else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` and wait for the station to end; its exit code."""
        proc = self.proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        self._stderr.seek(0)
        self.stderr = self._stderr.read().decode(errors="replace")
        return proc.returncode

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
