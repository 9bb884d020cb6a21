"""Idle clients cannot lock a simulated instrument: idle connections close, newcomers evict them.

Real sockets on 127.0.0.1 throughout; every wait is bounded by a condition, nothing sleeps.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from rig.sim.backend import StaticDaq
from rig.sim.servers.base import InstrumentServer, Session
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.tpg import TpgServer
from tests.sim.servers.conftest import RawClient, open_instrument, tpg_gauges, wait_until
from tests.sim.servers.test_server_robustness import PROTOCOLS

pytestmark = pytest.mark.integration

DAQ = PROTOCOLS["daq"]
IDN = "Keysight Technologies,DAQ970A,MY00000000,A.03.01-01.00-03.01-00.02-01.00-02.01"


def _daq(max_connections: int = 8, **timeouts: float) -> DaqServer:
    """A DAQ server with the given ``idle_timeout_s`` / ``evict_grace_s`` (attributes, set before start)."""
    server = DaqServer(StaticDaq(), max_connections=max_connections)
    for name, value in timeouts.items():
        setattr(server, name, value)
    return server


def _connect(server: DaqServer | TpgServer, clients: list[RawClient]) -> RawClient:
    client = RawClient.connect(server)
    clients.append(client)
    return client


def test_eight_idle_sockets_do_not_lock_out_a_pyvisa_client(rm: Any, clients: list[RawClient]) -> None:
    # The tester's case: every slot held by a socket that never sends a byte.
    # A grace shorter than the accept loop's own 0.2 s wait for a free slot: no need to wait for it.
    with _daq(evict_grace_s=0.05) as server:
        idle = [_connect(server, clients) for _ in range(server.max_connections)]
        assert wait_until(lambda: server.active_connections == server.max_connections)
        started = time.monotonic()
        inst = open_instrument(rm, server, "tcpip", read_termination="\n", write_termination="\n")
        try:
            assert inst.query("*IDN?") == IDN
        finally:
            inst.close()
        assert time.monotonic() - started < 1.5  # promptly: not after a client's 2 s timeout
        assert server.evicted_connections == 1
        assert idle[0].closed_by_peer()  # the first to connect had been idle the longest
        for client in idle[1:]:
            assert DAQ.probe(client) == list(DAQ.replies)


def test_the_connection_idle_longest_is_the_one_evicted(clients: list[RawClient]) -> None:
    with _daq(evict_grace_s=0.05) as server:
        oldest = _connect(server, clients)
        others = [_connect(server, clients) for _ in range(server.max_connections - 1)]
        for client in others:
            assert DAQ.probe(client) == list(DAQ.replies)  # active after ``oldest`` last was
        newcomer = _connect(server, clients)
        assert DAQ.probe(newcomer) == list(DAQ.replies)
        assert oldest.closed_by_peer()
        for client in others:
            assert DAQ.probe(client) == list(DAQ.replies)


def test_a_client_active_within_the_grace_is_not_evicted(clients: list[RawClient]) -> None:
    with _daq(max_connections=2, evict_grace_s=60.0) as server:
        first, second = _connect(server, clients), _connect(server, clients)
        assert DAQ.probe(first) == DAQ.probe(second) == list(DAQ.replies)
        assert _connect(server, clients).closed_by_peer()  # refused, as before
        assert server.evicted_connections == 0 and server.refused_connections == 1
        assert DAQ.probe(first) == DAQ.probe(second) == list(DAQ.replies)


def test_an_idle_connection_is_closed_after_the_idle_timeout(clients: list[RawClient]) -> None:
    idle_timeout_s = 0.3
    with _daq(idle_timeout_s=idle_timeout_s) as server:
        client = _connect(server, clients)
        # Requests keep it open well past the timeout: idleness counts, not age.
        end = time.monotonic() + 3 * idle_timeout_s
        while time.monotonic() < end:
            assert DAQ.probe(client) == list(DAQ.replies)
        last_request = time.monotonic()
        assert client.closed_by_peer(timeout_s=5.0)
        assert time.monotonic() - last_request >= idle_timeout_s - 0.05
        assert server.idle_closed_connections == 1
        assert wait_until(lambda: server.active_connections == 0)
        assert DAQ.probe(_connect(server, clients)) == list(DAQ.replies)  # the slot is free again


def test_a_streamed_connection_is_not_idle(clients: list[RawClient]) -> None:
    # A TPG in continuous output (COM) talks to a client that only reads.
    with TpgServer(tpg_gauges()) as server:
        server.idle_timeout_s = 0.3
        client = _connect(server, clients)
        client.send(b"COM,0\r")  # a line every 100 ms
        assert client.read_until(b"\r\n") == b"\x06\r\n"
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            assert client.read_until(b"\r\n") == b"0,1.2345E-03,0,9.8700E+02\r\n"
        assert server.idle_closed_connections == 0


class _Mute(InstrumentServer):
    def new_session(self) -> Session:
        raise NotImplementedError


@pytest.mark.parametrize("name", ["idle_timeout_s", "evict_grace_s"])
def test_the_timeouts_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        _Mute(**{name: 0.0})
    assert getattr(_Mute(**{name: None}), name) is None  # None turns it off
