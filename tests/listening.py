"""Listening sockets for tests: one that counts connections (proof that refused input contacted
nothing), one that accepts and never answers, and a port where nothing listens."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

# Where a corpus file names an instrument's port: the copy names the listener's instead.
PLACEHOLDER = "{port}"


class _Server:
    """A TCP server on 127.0.0.1 whose thread hands every accepted connection to ``_took``."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._server.settimeout(0.05)  # accept() wakes up to notice the stop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._took(conn)

    def _took(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


class Listener(_Server):
    """A TCP server on 127.0.0.1 that counts the connections it accepts (and closes them at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted = 0
        super().__init__()

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return self._accepted

    def _took(self, conn: socket.socket) -> None:
        with self._lock:
            self._accepted += 1
        conn.close()


def copy_naming_listener(source: Path, destination: Path, listener: Listener) -> None:
    """Copy the files of ``source`` into ``destination`` with every PLACEHOLDER the listener's port."""
    port = str(listener.port).encode()
    for path in source.iterdir():
        if path.is_file():
            (destination / path.name).write_bytes(path.read_bytes().replace(PLACEHOLDER.encode(), port))


class Mute(_Server):
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""

    def __init__(self) -> None:
        self._held: list[socket.socket] = []
        self._asked = threading.Event()
        super().__init__()
        self.resource = f"TCPIP::127.0.0.1::{self.port}::SOCKET"

    def _took(self, conn: socket.socket) -> None:
        self._held.append(conn)
        threading.Thread(target=self._listen, args=(conn,), name="mute-reader", daemon=True).start()

    def _listen(self, conn: socket.socket) -> None:
        try:
            if conn.recv(4096):
                self._asked.set()
        except OSError:
            pass

    def wait_for_request(self, timeout_s: float) -> bool:
        """True once a client has sent something (within ``timeout_s``): it now waits for the reply.

        Surer than a connection: any process may connect to a port (one that reconnects to a port
        a finished test's server had), but only the command under test sends it a request.
        """
        return self._asked.wait(timeout_s)

    def close(self) -> None:
        """Stop listening and drop every held connection."""
        super().close()
        for conn in self._held:
            conn.close()


# Bound, never listening: a connection to one is refused, and no other test's server can take its
# port (a port merely released was taken by a server of a test running beside, which accepted the
# connection and left the command waiting out its timeout).
_REFUSING: list[socket.socket] = []


def nobody_listening() -> str:
    """A loopback resource where nothing listens (its port held, for the rest of the test process)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _REFUSING.append(sock)
    return f"TCPIP::127.0.0.1::{sock.getsockname()[1]}::SOCKET"
