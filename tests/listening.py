"""A listening socket that counts connections: proof that refused input contacted nothing."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

# Where a corpus file names an instrument's port: the copy names the listener's instead.
PLACEHOLDER = "{port}"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts (and closes them at once)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._accepted = 0
        self._stop = threading.Event()
        self._server.settimeout(0.05)  # accept() wakes up to notice the stop
        self._thread = threading.Thread(target=self._serve, name="corpus-listener", daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return self._accepted

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted += 1
            conn.close()

    def close(self) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


def copy_naming_listener(source: Path, destination: Path, listener: Listener) -> None:
    """Copy the files of ``source`` into ``destination`` with every PLACEHOLDER the listener's port."""
    port = str(listener.port).encode()
    for path in source.iterdir():
        if path.is_file():
            (destination / path.name).write_bytes(path.read_bytes().replace(PLACEHOLDER.encode(), port))
