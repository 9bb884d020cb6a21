"""Misbehaving clients and connection-level faults against all three servers, over raw sockets.

Every wait is bounded by a timeout; nothing sleeps to make a timing come out.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pyvisa

from rig.sim.backend import GaugeReading, GaugeStatus, StaticDaq, StaticGauges
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.mks import MksServer
from rig.sim.servers.tpg import TpgServer
from tests.sim.servers.conftest import (
    RawClient,
    SwitchableFaults,
    mks_gauges,
    open_instrument,
    tpg_gauges,
    wait_until,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Protocol:
    """How to start one server, and one request whose replies are known exactly."""

    name: str
    make: Callable[[SwitchableFaults], InstrumentServer]
    request: bytes
    replies: tuple[bytes, ...]
    terminator: bytes
    resync: bytes  # ends or clears a partial request without producing a reply

    def probe(self, client: RawClient, timeout_s: float = 2.0) -> list[bytes]:
        client.send(self.request)
        return [client.read_until(self.terminator, timeout_s) for _ in self.replies]


PROTOCOLS = {
    "tpg": Protocol(
        "tpg",
        lambda faults: TpgServer(tpg_gauges(), faults=faults),
        b"PR1\r\x05",
        (b"\x06\r\n", b"0,1.2345E-03\r\n"),
        b"\r\n",
        b"\x03",
    ),
    "mks": Protocol(
        "mks",
        lambda faults: MksServer(mks_gauges(), faults=faults),
        b"@253PR1?;FF",
        (b"@253ACK1.10E-9;FF",),
        b";FF",
        b";FF",
    ),
    "daq": Protocol(
        "daq",
        lambda faults: DaqServer(StaticDaq(), faults=faults),
        b"MEAS:VOLT:DC? (@102)\n",
        (b"+1.23456789E+00\n",),
        b"\n",
        b"\n",
    ),
}


@pytest.fixture(params=sorted(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> Protocol:
    return PROTOCOLS[request.param]


@pytest.fixture
def server(protocol: Protocol, faults: SwitchableFaults) -> Iterator[InstrumentServer]:
    with protocol.make(faults) as started:
        yield started


def _connect(server: InstrumentServer, clients: list[RawClient]) -> RawClient:
    client = RawClient.connect(server)
    clients.append(client)
    return client


def _resync_until_probe_answers(protocol: Protocol, client: RawClient, max_frames: int) -> None:
    """After junk: resynchronise, then skip junk replies until the probe's last reply shows up."""
    client.send(protocol.resync)
    client.send(protocol.request)
    for _ in range(max_frames):
        if client.read_until(protocol.terminator) == protocol.replies[-1]:
            return
    pytest.fail("the probe's reply never came")


def test_binds_loopback_only_on_an_ephemeral_port(server: InstrumentServer) -> None:
    host, port = server.bound_address
    assert host == "127.0.0.1"
    assert port == server.port > 0
    assert server.resource == f"TCPIP::127.0.0.1::{port}::SOCKET"
    assert server.serial_resource == f"ASRLsocket://127.0.0.1:{port}::INSTR"


def test_client_disconnecting_mid_command(
    protocol: Protocol, server: InstrumentServer, clients: list[RawClient]
) -> None:
    multi = server.max_connections > 1
    other = _connect(server, clients) if multi else None
    quitter = RawClient.connect(server)
    assert protocol.probe(quitter) == list(protocol.replies)
    quitter.send(protocol.request[: len(protocol.request) // 2])
    quitter.close()
    assert wait_until(lambda: server.active_connections == (1 if multi else 0))
    well_behaved = other if other is not None else _connect(server, clients)
    for _ in range(3):
        assert protocol.probe(well_behaved) == list(protocol.replies)


def test_garbage_bytes(protocol: Protocol, server: InstrumentServer, clients: list[RawClient]) -> None:
    rng = random.Random(2024)
    garbage = bytes(rng.randrange(256) for _ in range(64 * 1024))
    client = _connect(server, clients)
    client.send(garbage)
    _resync_until_probe_answers(protocol, client, max_frames=len(garbage))
    for _ in range(3):
        assert protocol.probe(client) == list(protocol.replies)


def test_unterminated_flood_is_discarded_and_counted(
    protocol: Protocol, server: InstrumentServer, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    client.send(b"A" * (1024 * 1024))
    client.send(protocol.resync)
    assert protocol.probe(client) == list(protocol.replies)
    assert server.discarded_requests >= 1
    # A terminated request longer than the limit is thrown away too, and counted.
    before = server.discarded_requests
    client.send(b"B" * (server.max_request_bytes + 10) + protocol.resync)
    assert protocol.probe(client) == list(protocol.replies)
    assert server.discarded_requests == before + 1


def test_flood_while_another_client_is_served(
    protocol: Protocol, server: InstrumentServer, clients: list[RawClient]
) -> None:
    count = 2000
    flooder = _connect(server, clients)
    received: list[bytes] = []

    def flood() -> None:
        flooder.send(protocol.request * count)
        for _ in range(count * len(protocol.replies)):
            received.append(flooder.read_until(protocol.terminator, timeout_s=10.0))

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    if server.max_connections > 1:
        other = _connect(server, clients)
        for _ in range(50):
            assert protocol.probe(other) == list(protocol.replies)
    else:
        # The TPG serves one client: a second one is turned away, the first goes on.
        refused = _connect(server, clients)
        assert refused.closed_by_peer()
    thread.join(timeout=20.0)
    assert not thread.is_alive()
    assert received == list(protocol.replies) * count
    assert protocol.probe(flooder) == list(protocol.replies)


def test_tpg_turns_a_second_client_away_without_harming_the_first(rm: Any, tpg_server: TpgServer) -> None:
    first = open_instrument(rm, tpg_server, "tcpip", read_termination="\r\n", write_termination="\r")
    try:
        first.write("PR1")
        assert first.read() == "\x06"
        second = RawClient.connect(tpg_server)
        try:
            assert second.closed_by_peer()
        finally:
            second.close()
        first.write_raw(b"\x05")
        assert first.read() == "0,1.2345E-03"
        assert tpg_server.refused_connections == 1
    finally:
        first.close()
    # Once the first has gone, the next client is served.
    third = RawClient.connect(tpg_server)
    try:
        assert PROTOCOLS["tpg"].probe(third) == list(PROTOCOLS["tpg"].replies)
    finally:
        third.close()


def test_connection_cap(clients: list[RawClient]) -> None:
    daq = PROTOCOLS["daq"]
    with DaqServer(StaticDaq(), max_connections=2) as server:
        first, second = _connect(server, clients), _connect(server, clients)
        assert daq.probe(first) == daq.probe(second) == list(daq.replies)
        assert _connect(server, clients).closed_by_peer()
        first.close()
        assert wait_until(lambda: server.active_connections == 1)
        assert daq.probe(_connect(server, clients)) == list(daq.replies)
        assert daq.probe(second) == list(daq.replies)


def test_fault_latency(
    protocol: Protocol, server: InstrumentServer, faults: SwitchableFaults, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    faults.set("latency", 0.2)
    started = time.monotonic()
    assert protocol.probe(client, timeout_s=5.0) == list(protocol.replies)
    assert time.monotonic() - started >= 0.2 * len(protocol.replies)
    faults.clear()
    assert protocol.probe(client) == list(protocol.replies)


def test_fault_timeout_swallows_the_request(
    protocol: Protocol, server: InstrumentServer, faults: SwitchableFaults, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    faults.set("timeout")
    client.send(protocol.request)
    assert client.nothing_within()
    faults.clear()
    # Nothing was queued while the fault was on: the next reply is the next request's.
    assert protocol.probe(client) == list(protocol.replies)


def test_fault_drop_loses_every_nth_reply_only(
    protocol: Protocol, server: InstrumentServer, faults: SwitchableFaults, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    faults.set("drop", 3)
    sent = list(protocol.replies) * 3
    for _ in range(3):
        client.send(protocol.request)
    # Deterministic: the 3rd, 6th, ... reply under the fault is lost, the others arrive in order.
    expected = [reply for i, reply in enumerate(sent, start=1) if i % 3]
    assert [client.read_until(protocol.terminator) for _ in expected] == expected
    assert client.nothing_within()
    assert server.dropped_replies == len(sent) - len(expected)
    faults.clear()
    assert protocol.probe(client) == list(protocol.replies)


def test_fault_garbled_reply_has_no_number(
    protocol: Protocol, server: InstrumentServer, faults: SwitchableFaults, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    faults.set("garbled")
    replies = protocol.probe(client)
    for reply, good in zip(replies, protocol.replies, strict=True):
        body = reply[: -len(protocol.terminator)]
        assert len(reply) == len(good) and reply != good
        assert not any(chr(b).isdigit() for b in body), reply
        assert not {b"\x06", b"\x15", b"@", b";", b","} & {bytes([b]) for b in body}
    faults.clear()
    assert protocol.probe(client) == list(protocol.replies)


def test_fault_disconnect_drops_and_refuses_connections(
    protocol: Protocol, server: InstrumentServer, faults: SwitchableFaults, clients: list[RawClient]
) -> None:
    client = _connect(server, clients)
    assert protocol.probe(client) == list(protocol.replies)
    faults.set("disconnect")
    assert client.closed_by_peer()
    assert _connect(server, clients).closed_by_peer()
    faults.clear()
    assert wait_until(lambda: server.active_connections == 0)
    assert protocol.probe(_connect(server, clients)) == list(protocol.replies)


def test_faults_as_a_pyvisa_client_sees_them(
    rm: Any, daq_server: DaqServer, faults: SwitchableFaults
) -> None:
    inst = open_instrument(rm, daq_server, "tcpip", read_termination="\n", write_termination="\n")
    try:
        faults.set("garbled")
        with pytest.raises(ValueError):
            float(inst.query("MEAS:VOLT:DC? (@102)"))
        faults.clear()
        faults.set("timeout")
        inst.timeout = 300
        with pytest.raises(pyvisa.errors.VisaIOError) as caught:
            inst.query("MEAS:VOLT:DC? (@102)")
        assert caught.value.abbreviation == "VI_ERROR_TMO"
        faults.clear()
        inst.timeout = 2000
        assert float(inst.query("MEAS:VOLT:DC? (@102)")) == 1.23456789
    finally:
        inst.close()


def test_a_backend_failure_costs_one_connection_only(clients: list[RawClient]) -> None:
    class FailingGauges(StaticGauges):
        def read(self, channel: int) -> GaugeReading:
            if channel == 2:
                raise RuntimeError("simulated bench failure")
            return super().read(channel)

    gauges = FailingGauges({1: GaugeReading(GaugeStatus.OK, 0.12345), 2: GaugeReading(GaugeStatus.OK, 1.0)})
    tpg = PROTOCOLS["tpg"]
    with TpgServer(gauges) as server:
        doomed = _connect(server, clients)
        doomed.send(b"PR2\r")
        assert doomed.read_until(b"\r\n") == b"\x06\r\n"
        doomed.send(b"\x05")
        assert doomed.closed_by_peer()
        assert wait_until(lambda: server.active_connections == 0)
        assert tpg.probe(_connect(server, clients)) == list(tpg.replies)


def test_stop_is_bounded_closes_clients_and_joins_threads(clients: list[RawClient]) -> None:
    server = DaqServer(StaticDaq())
    server.start()
    idle = [_connect(server, clients) for _ in range(3)]
    partial = _connect(server, clients)
    partial.send(b"MEAS:VOLT")
    assert wait_until(lambda: server.active_connections == 4)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.5
    for client in [*idle, partial]:
        assert client.closed_by_peer()
    prefix = f"DaqServer:{server.port}:"
    assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1.0).close()


def test_stop_while_streaming(clients: list[RawClient]) -> None:
    with TpgServer(tpg_gauges()) as server:
        client = _connect(server, clients)
        client.send(b"COM,0\r")
        assert client.read_until(b"\r\n") == b"\x06\r\n"
        assert client.read_until(b"\r\n") == b"0,1.2345E-03,0,9.8700E+02\r\n"
    assert client.closed_by_peer()
