"""A small threaded TCP server framework for simulated instruments (127.0.0.1 only).

A protocol module subclasses :class:`InstrumentServer` and supplies a :class:`Session`
per connection: the session turns received bytes into complete replies, and this module
does everything else once for all protocols: binding, accepting, the connection cap, one
bounded thread per connection, connection-level faults, and a clean, time-bounded stop.

Idle clients cannot lock others out: a connection that has sent no request (and been
streamed nothing) for ``idle_timeout_s`` is closed, and when every slot is taken a
newcomer evicts the connection idle the longest, if it has been idle ``evict_grace_s``
at least (a client between a command and its follow-up, like the TPG's ENQ, is never cut).

Replies are computed under the server's lock (one instrument, one state, like the real
box) but sent outside it, so a client that stops reading can only stall itself.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from rig.sim.backend import NoFaults, ServerFaults

__all__ = ["HOST", "FrameBuffer", "FramedSession", "InstrumentServer", "Session"]

HOST = "127.0.0.1"

_log = logging.getLogger(__name__)

# Bytes a garbled reply is made of: no digit, sign, point, comma, exponent letter, ACK/NAK,
# '@', ';' or line end, so no client can parse a number or a frame boundary out of them.
_GARBLE_ALPHABET = b"#$%&*?!~^_|"
_RECV_CHUNK = 65536
# Long, because a cut connection is not free for the client: its driver reconnects, and an
# actuation sent on the dead socket is not confirmed (drivers never re-send one). A rig sampling
# every minute in real time must not see that; a client gone for five minutes frees its slot.
IDLE_TIMEOUT_S = 300.0
# A client between a command and its follow-up (the TPG's ENQ) is idle for milliseconds, not this.
EVICT_GRACE_S = 1.0
# An absurd (or infinite) latency magnitude still leaves a finite wait; stop() cuts it short anyway.
_MAX_LATENCY_S = 3600.0


class FrameBuffer:
    """Bytes received but not yet framed, bounded so that a client cannot grow it forever.

    When more than ``limit`` bytes have arrived without a terminator the buffer is
    discarded and ``on_overflow`` is called, and serving goes on with the next bytes.
    """

    def __init__(self, limit: int, on_overflow: Callable[[], None]) -> None:
        self._data = bytearray()
        self._limit = limit
        self._on_overflow = on_overflow

    def __len__(self) -> int:
        return len(self._data)

    def add(self, data: bytes) -> None:
        """Append bytes known to hold no terminator (discarding all when over the limit)."""
        self._data += data
        self._check()

    def take(self) -> bytes:
        """Everything buffered; the buffer is then empty."""
        out = bytes(self._data)
        self._data.clear()
        return out

    def clear(self) -> None:
        """Drop what is buffered (a protocol's "clear input buffer")."""
        self._data.clear()

    def frames(self, data: bytes, terminator: bytes) -> list[bytes]:
        """Append ``data`` and return every complete frame (without ``terminator``), in order.

        A frame longer than the limit is dropped and counted like an unterminated one.
        """
        self._data += data
        parts = bytes(self._data).split(terminator)
        self._data[:] = parts.pop()
        self._check()
        kept = [part for part in parts if len(part) <= self._limit]
        for _ in range(len(parts) - len(kept)):
            self._on_overflow()
        return kept

    def _check(self) -> None:
        if len(self._data) > self._limit:
            self._data.clear()
            self._on_overflow()


class Session(abc.ABC):
    """The protocol state of one connection: bytes in, complete replies out.

    Called with the server's lock held, from the connection's own thread only.
    """

    @abc.abstractmethod
    def feed(self, data: bytes) -> list[bytes]:
        """Consume received bytes; return the complete replies to send, in order."""

    def next_tick_s(self) -> float | None:
        """When (``time.monotonic()``) :meth:`tick` wants to run next; None for never."""
        return None

    def tick(self, now_s: float) -> list[bytes]:
        """Unsolicited output due at ``now_s`` (e.g. a continuous-output line)."""
        return []


class FramedSession(Session):
    """A connection whose requests end with ``terminator``; each gets at most one reply."""

    def __init__(
        self, server: InstrumentServer, terminator: bytes, handle: Callable[[bytes], bytes | None]
    ) -> None:
        self._buffer = server.frame_buffer()
        self._terminator = terminator
        self._handle = handle

    def feed(self, data: bytes) -> list[bytes]:
        """Answer every complete request received, in order."""
        replies = (self._handle(frame) for frame in self._buffer.frames(data, self._terminator))
        return [reply for reply in replies if reply is not None]


@dataclass
class _Client:
    """One served connection: its thread, and when it was last active (``time.monotonic()``)."""

    thread: threading.Thread
    # Written by the connection's thread only (a float store is atomic), read by the accept loop.
    last_active_s: float
    busy: bool = False  # handling a request now (a latency fault may hold it for long)
    evicted: bool = False

    def idle_s(self, now_s: float) -> float:
        """How long the connection has been idle at ``now_s`` (0 while it handles a request)."""
        return 0.0 if self.busy else now_s - self.last_active_s


class InstrumentServer(abc.ABC):
    """A TCP server for one simulated instrument on 127.0.0.1.

    Subclasses implement :meth:`new_session` and set :attr:`terminator` (the reply
    terminator kept intact when a reply is garbled). Use as a context manager, or call
    :meth:`start` and :meth:`stop`.
    """

    def driver_options(self) -> dict[str, Any]:
        """Options a driver opening this simulated instrument is given (none by default).

        Where the real instrument needs a driver to go easy on it and the simulation does not (the
        XGS-600's ten queries a second), the server says so: a simulated bench at full speed then
        runs at the speed of its physics, while the drivers' own tests keep the real defaults.
        """
        return {}

    #: Reply terminator; a garbled reply keeps it so that the client reads a whole bad frame.
    terminator: bytes = b"\n"

    def __init__(
        self,
        *,
        port: int = 0,
        faults: ServerFaults | None = None,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
        poll_s: float = 0.05,
        send_timeout_s: float = 2.0,
        busy_grace_s: float = 0.2,
        idle_timeout_s: float | None = IDLE_TIMEOUT_S,
        evict_grace_s: float | None = EVICT_GRACE_S,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        for name, value in (("idle_timeout_s", idle_timeout_s), ("evict_grace_s", evict_grace_s)):
            if value is not None and not value > 0.0:
                raise ValueError(f"{name} must be positive (or None), got {value}")
        self._requested_port = port
        self.faults: ServerFaults = faults if faults is not None else NoFaults()
        self.max_connections = max_connections
        self.max_request_bytes = max_request_bytes
        self._poll_s = poll_s
        self._send_timeout_s = send_timeout_s
        self._busy_grace_s = busy_grace_s
        self.idle_timeout_s = idle_timeout_s
        self.evict_grace_s = evict_grace_s
        #: Held while a session turns a request into replies: the instrument's state is shared.
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._slots = threading.Condition()
        self._clients: dict[socket.socket, _Client] = {}
        self._counters_lock = threading.Lock()
        self._port = 0
        self.discarded_requests = 0
        self.dropped_replies = 0
        # Replies sent (or lost) while a "drop" fault was active: every N-th of them is lost.
        self._drop_count = 0
        self.refused_connections = 0
        self.served_connections = 0
        self.idle_closed_connections = 0
        self.evicted_connections = 0

    # -- what a protocol supplies -----------------------------------------------------------

    @abc.abstractmethod
    def new_session(self) -> Session:
        """The protocol state for a newly accepted connection."""

    # -- public surface -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (known once started)."""
        if not self._port:
            raise RuntimeError("server not started")
        return self._port

    @property
    def bound_address(self) -> tuple[str, int]:
        """The (host, port) the listener is bound to (host is always 127.0.0.1)."""
        if self._listener is None:
            raise RuntimeError("server not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def resource(self) -> str:
        """VISA resource name for a raw socket: ``TCPIP::127.0.0.1::PORT::SOCKET``."""
        return f"TCPIP::{HOST}::{self.port}::SOCKET"

    @property
    def serial_resource(self) -> str:
        """pyvisa-py serial-over-TCP resource name: ``ASRLsocket://127.0.0.1:PORT::INSTR``."""
        return f"ASRLsocket://{HOST}:{self.port}::INSTR"

    @property
    def active_connections(self) -> int:
        """Connections being served now."""
        with self._slots:
            return len(self._clients)

    def note_discarded(self) -> None:
        """Count a request thrown away (too long without a terminator)."""
        with self._counters_lock:
            self.discarded_requests += 1

    def frame_buffer(self) -> FrameBuffer:
        """A receive buffer bounded by this server's ``max_request_bytes``."""
        return FrameBuffer(self.max_request_bytes, self.note_discarded)

    def garble(self, reply: bytes) -> bytes:
        """``reply`` corrupted past parsing, its terminator kept."""
        body, tail = reply, b""
        if self.terminator and reply.endswith(self.terminator):
            body, tail = reply[: -len(self.terminator)], self.terminator
        n = len(_GARBLE_ALPHABET)
        return bytes(_GARBLE_ALPHABET[(b * 7 + i) % n] for i, b in enumerate(body)) + tail

    def start(self) -> None:
        """Bind 127.0.0.1 and start accepting connections."""
        if self._listener is not None:
            raise RuntimeError("server already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, self._requested_port))
            listener.listen(16)
            # The accept loop wakes this often to notice stop() and the "disconnect" fault.
            listener.settimeout(self._poll_s)
        except OSError:
            listener.close()
            raise
        self._port = int(listener.getsockname()[1])
        self._listener = listener
        self._stop.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{type(self).__name__}:{self._port}:accept", daemon=True
        )
        self._accept_thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Close every connection and the listener; join the threads (at most ~``timeout_s``)."""
        self._stop.set()
        with self._slots:
            self._slots.notify_all()  # an accept waiting for a free slot gives up now
        deadline = time.monotonic() + timeout_s
        if self._listener is not None:
            _shutdown(self._listener)  # wakes a waiting accept() at once on Linux
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        with self._slots:
            clients = list(self._clients.items())
        for conn, _ in clients:
            _shutdown(conn)
        for _, client in clients:
            client.thread.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            self._listener.close()
        self._listener = None
        self._accept_thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- accepting ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            if self.faults.active("disconnect") is not None or not self._take_slot(conn):
                with self._counters_lock:
                    self.refused_connections += 1
                _close(conn)

    def _take_slot(self, conn: socket.socket) -> bool:
        with self._slots:
            # A client that just hung up may not have been reaped yet: give it a moment,
            # so that a driver reconnecting at once to a one-client instrument gets in.
            if not self._slots.wait_for(self._slot_free, self._busy_grace_s):
                if not self._evict_longest_idle():
                    return False
                # The evicted thread wakes within a poll and frees its slot.
                if not self._slots.wait_for(self._slot_free, self._poll_s + self._send_timeout_s):
                    return False
            if self._stop.is_set():
                return False
            thread = threading.Thread(
                target=self._serve, args=(conn,), name=f"{type(self).__name__}:{self._port}:conn", daemon=True
            )
            client = _Client(thread, last_active_s=time.monotonic())
            self._clients[conn] = client
            self.served_connections += 1
        thread.start()
        return True

    def _slot_free(self) -> bool:
        return len(self._clients) < self.max_connections or self._stop.is_set()

    def _evict_longest_idle(self) -> bool:
        """Cut the connection idle the longest, if idle for the grace at least (``_slots`` held)."""
        if self.evict_grace_s is None:
            return False
        now = time.monotonic()
        candidates = [(c.idle_s(now), conn, c) for conn, c in self._clients.items() if not c.evicted]
        if not candidates:
            return False
        idle_s, conn, client = max(candidates, key=lambda entry: entry[0])
        if idle_s < self.evict_grace_s:
            return False
        client.evicted = True
        self.evicted_connections += 1
        _shutdown(conn)  # its thread sees the end of the stream at its next poll and leaves
        return True

    # -- serving one connection --------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        with self._slots:
            client = self._clients[conn]
        try:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._serve_loop(conn, self.new_session(), client)
        except Exception:
            # A protocol bug must cost this connection only, never the server.
            _log.exception("%s: connection handler failed", type(self).__name__)
        finally:
            _close(conn)
            with self._slots:
                self._clients.pop(conn, None)
                self._slots.notify_all()

    def _serve_loop(self, conn: socket.socket, session: Session, client: _Client) -> None:
        while not self._stop.is_set():
            if self.faults.active("disconnect") is not None:
                return
            now = time.monotonic()
            due = session.next_tick_s()
            if due is not None and due <= now:
                with self.lock:
                    replies = session.tick(now)
                if not self._send(conn, replies):
                    return
                # A client reading a continuous output is being served, not idle.
                client.last_active_s = time.monotonic()
                continue
            if self.idle_timeout_s is not None and client.idle_s(now) >= self.idle_timeout_s:
                with self._counters_lock:
                    self.idle_closed_connections += 1
                return
            wait_s = self._poll_s if due is None else min(self._poll_s, due - now)
            conn.settimeout(max(wait_s, 0.001))
            try:
                data = conn.recv(_RECV_CHUNK)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            client.last_active_s = time.monotonic()
            if self.faults.active("timeout") is not None:
                continue  # the request is swallowed: the instrument never saw it
            client.busy = True
            try:
                with self.lock:
                    replies = session.feed(data)
                if not self._send(conn, replies):
                    return
            finally:
                client.busy = False
                client.last_active_s = time.monotonic()

    def _send(self, conn: socket.socket, replies: list[bytes]) -> bool:
        for reply in replies:
            if self.reply_lost():
                continue
            latency_s = self.faults.active("latency")
            if latency_s and latency_s > 0 and self._stop.wait(min(latency_s, _MAX_LATENCY_S)):
                return False
            if self.faults.active("disconnect") is not None:
                return False
            if self.faults.active("garbled") is not None:
                reply = self.garble(reply)
            conn.settimeout(self._send_timeout_s)
            try:
                conn.sendall(reply)
            except OSError:
                # Includes the send timeout: a client that never reads is dropped.
                return False
        return True

    def reply_lost(self) -> bool:
        """Whether the reply about to be sent is lost: a "timeout" fault, or the N-th under "drop".

        Asked once per reply, in order (a "drop" fault counts them): the TCP path and the
        in-process transport (:mod:`rig.sim.inprocess`) lose the same replies.
        """
        return self.faults.active("timeout") is not None or self._dropped()

    def _dropped(self) -> bool:
        """Whether this reply is the N-th one under an active "drop" fault (then it is lost)."""
        every = self.faults.active("drop")
        if every is None or every < 1:
            return False
        with self._counters_lock:
            self._drop_count += 1
            if self._drop_count % max(1, round(every)):
                return False
            self.dropped_replies += 1
        return True


def _shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


def _close(conn: socket.socket) -> None:
    _shutdown(conn)
    with contextlib.suppress(OSError):
        conn.close()
