"""One TPG reading (``PR1<CR>``, ``<ACK>``, ``<ENQ>``, data line) through pyvisa-py and a raw socket.

Both talk to the same simulated TPG 362 on 127.0.0.1, one after the other (it serves one
client at a time). With ``--benchmark-enable`` the medians compare pyvisa-py's overhead
with the bare loopback round trip (target: pyvisa-py median at most 1 ms); in CI
(``--benchmark-disable``) each runs once and only its answers are checked.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import pyvisa

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tpg import TpgServer

pytestmark = pytest.mark.integration

EXPECTED = ("\x06", "0,1.2345E-03")


@pytest.fixture(scope="module")
def tpg_server() -> Iterator[TpgServer]:
    gauges = StaticGauges(
        {1: GaugeReading(GaugeStatus.OK, 0.12345), 2: GaugeReading(GaugeStatus.OK, 98700.0)}
    )
    with TpgServer(gauges) as server:
        yield server


@pytest.mark.benchmark(group="tpg-roundtrip")
def test_tpg_reading_pyvisa_py(benchmark: Any, tpg_server: TpgServer) -> None:
    rm = pyvisa.ResourceManager("@py")  # one per process in pyvisa: shared, so not closed here
    inst: Any = rm.open_resource(
        tpg_server.resource, read_termination="\r\n", write_termination="\r", timeout=2000
    )

    def reading() -> tuple[str, str]:
        inst.write("PR1")
        ack = inst.read()
        inst.write_raw(b"\x05")
        return ack, inst.read()

    try:
        assert benchmark(reading) == EXPECTED
    finally:
        inst.close()


class _LineSocket:
    """The least a client can do: send, and read up to ``<CR><LF>``."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def line(self) -> str:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line.decode("ascii")


@pytest.mark.benchmark(group="tpg-roundtrip")
def test_tpg_reading_raw_socket(benchmark: Any, tpg_server: TpgServer) -> None:
    client = _LineSocket(tpg_server.port)

    def reading() -> tuple[str, str]:
        client.sock.sendall(b"PR1\r")
        ack = client.line()
        client.sock.sendall(b"\x05")
        return ack, client.line()

    try:
        assert benchmark(reading) == EXPECTED
    finally:
        client.sock.close()
