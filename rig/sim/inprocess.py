"""Simulated instruments reached in this process: the drivers fed straight into the servers' protocol.

A campaign (``rig evaluate``) runs hundreds of simulated runs; over loopback TCP each request
crosses pyvisa-py, a socket and a server thread. :class:`InProcessTransport` is a
:class:`drivers.transport.Transport` that hands a driver's bytes to the server's protocol
:class:`~rig.sim.servers.base.Session` directly and reads the replies back from a buffer: the
same drivers, the same protocol code, the same physics, and no socket.

    rig = SimulatedRig(bench, clock, seed)              # its servers built, never started
    options = inprocess_options(rig)                    # per instrument: the driver's options
    RigSession(bench, inprocess_resources(rig), options=options)

What the TCP server does and this transport does likewise: the connection faults (a "timeout"
swallows requests and replies, "drop" loses every N-th reply, "garbled" garbles, "disconnect"
refuses connecting and cuts the session) and ticks (a session's unsolicited output, the TPG's
continuous mode) run when a read finds no complete reply and the tick is due within the read's
timeout (waiting for it on ``time.monotonic()``, the clock the servers pace ticks by). What
differs: a read that nothing can answer fails at once instead of after the timeout (no other
thread could write meanwhile), and a "latency" fault delays nothing: a latency shorter than
the timeout is invisible, a longer one makes the read time out and the reply arrive late
(found by the next read, or dropped by a resync), as a slow instrument's would. Neither
changes a run on a virtual clock, where the wait of a timeout is not simulated time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from drivers.errors import InstrumentDisconnectedError, InstrumentTimeoutError
from drivers.transport import TRANSPORT_OPTION, Transport, TransportOpener
from rig.sim.servers.base import InstrumentServer, Session
from rig.sim.simulated_rig import SimulatedRig

__all__ = ["InProcessTransport", "inprocess_options", "inprocess_resources", "opener"]

_log = logging.getLogger(__name__)

# What a resource looks like when it names an in-process instrument (for messages and records).
RESOURCE_PREFIX = "inprocess://"


class InProcessTransport:
    """A :class:`~drivers.transport.Transport` to ``server``, one protocol session per connection."""

    # A cut session is "closed", and a retry may reconnect: like a TCP peer.
    reconnects_on_timeout = True

    def __init__(self, server: InstrumentServer, name: str, read_termination: str, timeout_s: float) -> None:
        self.server = server
        self.name = name
        self.timeout_s = timeout_s
        self._terminator = read_termination.encode("latin-1")
        self._session: Session | None = None
        self._inbox = bytearray()
        self._late: list[bytes] = []  # replies a latency fault holds past the read's timeout
        self._open()

    # -- the Transport protocol ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Feed ``data`` to the instrument's protocol; its replies wait to be read."""
        session = self._live("write")
        if self.server.faults.active("timeout") is not None:
            return  # swallowed: the instrument never saw it
        replies = self._serve(lambda: session.feed(data), "write")
        self._deliver(replies)

    def read_line(self) -> bytes:
        """One reply line, its terminator stripped."""
        while True:
            if self._terminator:
                at = self._inbox.find(self._terminator)
                if at >= 0:
                    line = bytes(self._inbox[:at])
                    del self._inbox[: at + len(self._terminator)]
                    return line
            self._await_more("read")

    def read_exact(self, count: int) -> bytes:
        """Exactly ``count`` bytes."""
        while len(self._inbox) < count:
            self._await_more("read")
        data = bytes(self._inbox[:count])
        del self._inbox[:count]
        return data

    def discard_input(self) -> None:
        """Drop whatever was sent and not read (late replies and due output included)."""
        if self._session is not None:
            self._run_due_ticks(time.monotonic())
        self._inbox.clear()
        self._late.clear()

    def reconnect(self) -> None:
        """A new session, as a new TCP connection would get (refused under a "disconnect" fault)."""
        self.close()
        self._open()

    def close(self) -> None:
        """End the session; what it left unread is gone."""
        self._session = None
        self._inbox.clear()
        self._late.clear()

    # -- inside --------------------------------------------------------------------------------

    def _open(self) -> None:
        if self.server.faults.active("disconnect") is not None:
            raise InstrumentDisconnectedError(f"{self.resource}: cannot open (connection refused)")
        self._session = self.server.new_session()

    @property
    def resource(self) -> str:
        """The name this connection goes by in messages."""
        return f"{RESOURCE_PREFIX}{self.name}"

    def _live(self, what: str) -> Session:
        if self._session is None:
            raise InstrumentDisconnectedError(f"{self.resource}: not connected")
        if self.server.faults.active("disconnect") is not None:
            self.close()
            raise InstrumentDisconnectedError(f"{self.resource}: {what} failed (connection closed)")
        return self._session

    def _deliver(self, replies: list[bytes]) -> None:
        """Replies as the TCP server would send them: lost, late, garbled or as they are."""
        faults = self.server.faults
        for reply in replies:
            if self.server.reply_lost():
                continue
            latency_s = faults.active("latency")
            if faults.active("garbled") is not None:
                reply = self.server.garble(reply)
            if latency_s is not None and latency_s >= self.timeout_s:
                self._late.append(reply)
            else:
                self._inbox += reply

    def _await_more(self, what: str) -> None:
        """More input: a late reply (after this read times out), a due tick, or a timeout now."""
        session = self._live(what)
        if self._late:
            for reply in self._late:
                self._inbox += reply
            self._late.clear()
            raise self._timeout(what)
        due = session.next_tick_s()
        now = time.monotonic()
        if due is None or due - now > self.timeout_s:
            raise self._timeout(what)
        if due > now:
            # The server paces its output on the wall clock; this read would wait for it too.
            time.sleep(due - now)
        if not self._run_due_ticks(time.monotonic()):
            raise self._timeout(what)

    def _run_due_ticks(self, now_s: float) -> bool:
        """Run the session's ticks due at ``now_s``; whether any output came of them."""
        session = self._session
        came = False
        while session is not None and (due := session.next_tick_s()) is not None and due <= now_s:
            replies = self._serve(lambda: session.tick(now_s), "read")
            before = len(self._inbox)
            self._deliver(replies)
            came = came or len(self._inbox) > before
            if not replies:
                break  # a tick that says nothing would otherwise be asked forever
        return came

    def _serve(self, handle: Callable[[], list[bytes]], what: str) -> list[bytes]:
        """``handle`` under the server's lock; a protocol bug costs this connection only, as over TCP."""
        try:
            with self.server.lock:
                return handle()
        except Exception as exc:
            _log.exception("%s: connection handler failed", type(self.server).__name__)
            self.close()
            raise InstrumentDisconnectedError(f"{self.resource}: {what} failed (connection closed)") from exc

    def _timeout(self, what: str) -> InstrumentTimeoutError:
        return InstrumentTimeoutError(f"{self.resource}: no reply to {what} in {self.timeout_s:g} s")


def opener(server: InstrumentServer, name: str) -> TransportOpener:
    """What opens in-process connections to ``server`` (named ``name`` in messages)."""

    def open_transport(read_termination: str, timeout_s: float) -> Transport:
        return InProcessTransport(server, name, read_termination, timeout_s)

    return open_transport


def inprocess_resources(rig: SimulatedRig) -> dict[str, str]:
    """Instrument name → the name its in-process connection goes by (no VISA resource: none is opened)."""
    return {name: f"{RESOURCE_PREFIX}{rig.bench.name}/{name}" for name in rig.servers}


def inprocess_options(rig: SimulatedRig) -> dict[str, dict[str, Any]]:
    """Instrument name → its driver's options: the server's own, and the in-process opener."""
    resources = inprocess_resources(rig)
    return {
        name: {
            **server.driver_options(),
            TRANSPORT_OPTION: opener(server, resources[name][len(RESOURCE_PREFIX) :]),
        }
        for name, server in rig.servers.items()
    }
