"""Serving the station: uvicorn on a socket bound before anything is printed, and a clean stop.

The socket is bound and listening before the first line (``{"url": ..., "token": ...}``) is
printed, so that whoever reads the line can connect at once, port 0 included. Ctrl-C, SIGTERM and
SIGHUP stop the run going on first, as at ``rig run`` (the first gracefully, the second at once),
and the server only once the run has ended in its safe state.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn

from rig.station.access import Access
from rig.station.app import build_app
from rig.station.control import Station

SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port); OSError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The station's address as a browser writes it."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    """uvicorn, whose stop signals stop the station's run before the server."""

    def __init__(self, config: uvicorn.Config, station: Station) -> None:
        super().__init__(config)
        self.station = station
        self._closing = False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Ctrl-C, SIGTERM and SIGHUP stop the station (uvicorn's own would raise them again after,
        killing the process by SIGTERM's default action; a station asked to stop exits 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in SIGNAL_NAMES}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        station = self.station
        if station.active is not None and station.active.runner is not None:
            why = SIGNAL_NAMES.get(signal.Signals(sig), f"signal {sig}")
            stops = station.stop(f"the station's terminal ({why})")
            print(
                f"rig station: {why}: stopping the run ({'at once' if stops >= 2 else 'cleanly'})",
                file=sys.stderr,
            )
            if not self._closing:
                self._closing = True
                # The server stops once the run has ended: its safe state is never cut short.
                threading.Thread(target=self._exit_after_run, name="station-exit", daemon=True).start()
            return
        super().handle_exit(sig, frame)

    def _exit_after_run(self) -> None:
        self.station.wait()
        self.should_exit = True


def serve(station: Station, access: Access, sock: socket.socket, first_line: dict[str, Any]) -> None:
    """Print ``first_line`` (JSON) on stdout and serve until stopped; the run going on ends first."""
    app = build_app(station, access)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    server = _Server(config, station)
    print(json.dumps(first_line), flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        # A server that stopped for another reason still lets the run end in its safe state.
        if station.active is not None:
            station.stop("the station stopping")
            station.wait()
