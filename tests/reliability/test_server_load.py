"""Issue 7, part 5: every simulated server keeps answering correctly while a second client floods it.

The flooder sends seeded random bytes (terminators and the protocols' control characters
included) as fast as the loopback takes them for a bounded time; meanwhile a well-behaved
client asks its probe again and again and must get exactly the right replies, each within
a bounded time. The TPG serves one client, like the real controller: there the flooder is
turned away at once and the first client never notices. Every loop here is bounded.

    RELIABILITY_FULL=1 pytest tests/reliability/test_server_load.py   # a longer flood
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from rig.sim.servers.base import InstrumentServer
from tests.sim.servers.conftest import RawClient, SwitchableFaults
from tests.sim.servers.test_server_robustness import PROTOCOLS, Protocol

pytestmark = pytest.mark.integration

FLOOD_S = 20.0 if os.environ.get("RELIABILITY_FULL") else 2.0
REPLY_BOUND_S = 2.0  # a probe answered slower than this counts as a failure (the client's timeout)
CHUNK = 4096


@pytest.fixture(params=sorted(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> Protocol:
    return PROTOCOLS[request.param]


@pytest.fixture
def server(protocol: Protocol) -> Iterator[InstrumentServer]:
    with protocol.make(SwitchableFaults()) as started:
        yield started


def flood(server: InstrumentServer, stop: threading.Event, seed: int, sent: list[int]) -> None:
    """Send random bytes until ``stop`` (or the server drops us); count what went out."""
    rng = random.Random(seed)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2.0) as sock:
            deadline = time.monotonic() + FLOOD_S + 5.0
            while not stop.is_set() and time.monotonic() < deadline:
                chunk = rng.randbytes(CHUNK)
                sock.settimeout(0.5)
                try:
                    sock.sendall(chunk)
                except TimeoutError:
                    continue  # the server is not reading fast enough: it is busy, not broken
                sent[0] += len(chunk)
                # Drain replies to junk without waiting, so our own buffers never block the server.
                sock.settimeout(0.0)
                with contextlib.suppress(BlockingIOError):
                    if sock.recv(65536) == b"":
                        return  # the server closed on us: its right
    except OSError:
        return  # turned away or dropped: the server's right


def test_a_server_answers_correctly_under_a_garbage_flood(
    protocol: Protocol, server: InstrumentServer
) -> None:
    client = RawClient.connect(server)
    try:
        assert protocol.probe(client) == list(protocol.replies)
        stop = threading.Event()
        sent = [0]
        flooder = threading.Thread(target=flood, args=(server, stop, 7, sent), daemon=True)
        flooder.start()
        answered, slowest = 0, 0.0
        end = time.monotonic() + FLOOD_S
        try:
            while time.monotonic() < end:
                started = time.monotonic()
                assert protocol.probe(client, timeout_s=REPLY_BOUND_S) == list(protocol.replies)
                slowest = max(slowest, time.monotonic() - started)
                answered += 1
        finally:
            stop.set()
            flooder.join(timeout=10.0)
        assert not flooder.is_alive()
        assert answered > 50, answered
        # The TPG serves one client: the flooder's bytes never reach a session (the kernel may
        # still take some before the close). The others must really have been flooded.
        if server.max_connections == 1:
            assert server.active_connections == 1
        else:
            assert sent[0] > CHUNK * 10
        record(protocol.name, answered, slowest, sent[0])
    finally:
        client.close()


def record(name: str, answered: int, slowest_s: float, flood_bytes: int) -> None:
    path = os.environ.get("RELIABILITY_REPORT")
    if path:
        row = {
            "suite": "server_load",
            "server": name,
            "flood_s": FLOOD_S,
            "probes_answered_correctly": answered,
            "slowest_probe_ms": round(slowest_s * 1e3, 1),
            "flood_bytes": flood_bytes,
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
