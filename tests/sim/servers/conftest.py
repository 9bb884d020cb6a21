"""Fixtures for the simulated-instrument server tests: servers, pyvisa-py clients, raw sockets.

The bench values here are chosen so that the replies of spec tables 5.1 to 5.3 come out
byte for byte (e.g. 0.12345 Pa on TPG channel 1 prints ``0,1.2345E-03`` in mbar).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pyvisa

from rig.sim.backend import GaugeReading, GaugeStatus, StaticDaq, StaticGauges
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.mks import MksServer
from rig.sim.servers.tpg import TpgServer

TORR_PA = 101325.0 / 760.0
TIMEOUT_MS = 2000
# How long a test waits to see that nothing arrives (a reply that is not due).
SILENCE_MS = 250

# pyserial is a declared dependency: the serial path is never skipped.
RESOURCE_KINDS = ["tcpip", "asrl"]


class SwitchableFaults:
    """A :class:`rig.sim.backend.ServerFaults` double: a test turns fault kinds on and off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, float] = {}

    def set(self, kind: str, magnitude: float = 0.0) -> None:
        with self._lock:
            self._active[kind] = magnitude

    def clear(self, kind: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self._active.clear()
            else:
                self._active.pop(kind, None)

    def active(self, kind: str, channel: int | None = None) -> float | None:
        with self._lock:
            return self._active.get(kind)


def tpg_gauges() -> StaticGauges:
    """A TPG 362 bench: a switchable PKR at 1.2345e-3 mbar, a TPR/PCR at 987 mbar."""
    return StaticGauges(
        readings={1: GaugeReading(GaugeStatus.OK, 0.12345), 2: GaugeReading(GaugeStatus.OK, 98700.0)},
        sensor_ids={1: "PKR", 2: "TPR/PCR"},
        switchable_channels={1},
    )


def mks_gauges() -> StaticGauges:
    """A 937B bench: ion gauges on 1, 3, 5, Pirani/CM on 2, 4, 6 (as pymeasure assumes)."""
    return StaticGauges(
        readings={
            1: GaugeReading(GaugeStatus.OK, 1.10e-9 * TORR_PA),
            2: GaugeReading(GaugeStatus.OK, 760.0 * TORR_PA),
            3: GaugeReading(GaugeStatus.OK, 2.5e-7 * TORR_PA),
            4: GaugeReading(GaugeStatus.OK, 1.0e-3 * TORR_PA),
            5: GaugeReading(GaugeStatus.OK, 3.3e-8 * TORR_PA),
            6: GaugeReading(GaugeStatus.OK, 4.0e-2 * TORR_PA),
        },
        sensor_ids={1: "CC", 2: "PR", 3: "HC", 4: "PR", 5: "CC", 6: "CM"},
        switchable_channels={1, 3, 5},
    )


@pytest.fixture(scope="session")
def rm() -> Iterator[Any]:
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


@pytest.fixture
def faults() -> SwitchableFaults:
    return SwitchableFaults()


@pytest.fixture
def tpg_server(faults: SwitchableFaults) -> Iterator[TpgServer]:
    with TpgServer(tpg_gauges(), faults=faults) as server:
        yield server


@pytest.fixture
def mks_server(faults: SwitchableFaults) -> Iterator[MksServer]:
    with MksServer(mks_gauges(), faults=faults) as server:
        yield server


@pytest.fixture
def daq_server(faults: SwitchableFaults) -> Iterator[DaqServer]:
    with DaqServer(StaticDaq(), faults=faults) as server:
        yield server


def open_instrument(rm: Any, server: InstrumentServer, kind: str, **options: Any) -> Any:
    """A pyvisa-py resource on ``server``: raw TCP socket or serial-over-TCP."""
    name = server.resource if kind == "tcpip" else server.serial_resource
    return rm.open_resource(name, timeout=TIMEOUT_MS, **options)


@pytest.fixture(params=RESOURCE_KINDS)
def tpg(request: pytest.FixtureRequest, rm: Any, tpg_server: TpgServer) -> Iterator[Any]:
    inst = open_instrument(rm, tpg_server, request.param, read_termination="\r\n", write_termination="\r")
    yield inst
    inst.close()


@pytest.fixture(params=RESOURCE_KINDS)
def mks(request: pytest.FixtureRequest, rm: Any, mks_server: MksServer) -> Iterator[Any]:
    # pymeasure's pattern: ";" ends the read, then the two "F" follow.
    inst = open_instrument(rm, mks_server, request.param, read_termination=";", write_termination=";FF")
    yield inst
    inst.close()


@pytest.fixture
def daq(rm: Any, daq_server: DaqServer) -> Iterator[Any]:
    inst = open_instrument(rm, daq_server, "tcpip", read_termination="\n", write_termination="\n")
    yield inst
    inst.close()


def tpg_exchange(inst: Any, command: str) -> tuple[str, str]:
    """``command<CR>`` then ``<ENQ>``: the acknowledgement and the data line."""
    inst.write(command)
    ack = inst.read()
    inst.write_raw(b"\x05")
    return ack, inst.read()


def mks_query(inst: Any, body: str, address: int = 253) -> str:
    """``@aaa<body>;FF`` and its reply without ``;FF`` (checking the two ``F``)."""
    inst.write(f"@{address:03d}{body}")
    reply = inst.read()
    assert inst.read_bytes(2) == b"FF"
    return str(reply)


def assert_silent(inst: Any) -> None:
    """Nothing arrives within SILENCE_MS (pyvisa-py reports a timeout)."""
    inst.timeout = SILENCE_MS
    try:
        with pytest.raises(pyvisa.errors.VisaIOError) as caught:
            inst.read_raw()
        assert caught.value.abbreviation == "VI_ERROR_TMO"
    finally:
        inst.timeout = TIMEOUT_MS


@dataclass
class RawClient:
    """A plain TCP client with a receive buffer; every wait is bounded."""

    sock: socket.socket
    buffer: bytearray

    @classmethod
    def connect(cls, server: InstrumentServer, timeout_s: float = 2.0) -> RawClient:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, bytearray())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, terminator: bytes, timeout_s: float = 2.0) -> bytes:
        """Bytes up to and including ``terminator``; TimeoutError if it does not come."""
        deadline = time.monotonic() + timeout_s
        while terminator not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {terminator!r} within {timeout_s} s; got {bytes(self.buffer)!r}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by the server; got {bytes(self.buffer)!r}")
            self.buffer += chunk
        end = self.buffer.index(terminator) + len(terminator)
        out = bytes(self.buffer[:end])
        del self.buffer[:end]
        return out

    def nothing_within(self, timeout_s: float = SILENCE_MS / 1000) -> bool:
        """True when no byte arrives within ``timeout_s`` (and the connection stays open)."""
        if self.buffer:
            return False
        self.sock.settimeout(timeout_s)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return True
        self.buffer += chunk
        return False

    def closed_by_peer(self, timeout_s: float = 2.0) -> bool:
        """True when the server closes the connection within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionError:
                return True
            if not chunk:
                return True
            self.buffer += chunk
        return False

    def close(self) -> None:
        self.sock.close()


def wait_until(condition: Any, timeout_s: float = 2.0) -> bool:
    """Poll ``condition()`` until true or ``timeout_s`` has passed (for server-side effects)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def clients() -> Iterator[list[RawClient]]:
    """Raw clients a test opens; closed when it ends."""
    opened: list[RawClient] = []
    yield opened
    for client in opened:
        client.close()
