"""The DAQ970A driver against the simulated DAQ970A through pyvisa-py, faults included.

The bench (``daq_bench``, a StaticDaq) holds 22.885 °C on channel 101, 23.1 °C on 103,
1.23456789 V on 102 and nothing on 104 (an open thermocouple).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.daq970a import Daq970a, OverloadError, ScpiError
from drivers.errors import DriverError, InstrumentError, InstrumentTimeoutError, ProtocolError
from rig.sim.backend import StaticDaq
from rig.sim.servers.daq import DaqServer
from tests.drivers.conftest import CountingFaults

pytestmark = pytest.mark.integration

IDN = "Keysight Technologies,DAQ970A,MY00000000,A.03.01-01.00-03.01-00.02-01.00-02.01"
# Fault tests wait this long for a reply: loopback answers in well under a millisecond.
FAULT_TIMEOUT_S = 0.3
# The lost-reply tests: each lost reply is waited out once (some 15-35 of them a test), and a
# spurious timeout there is only one more retry (a read fails only if both of its attempts time out),
# so they wait less than the tests that time the retry bound.
DROP_TIMEOUT_S = 0.1
# A timed-out attempt also reconnects and drains input (≤ 20 ms, see VisaTransport.discard_input).
JITTER_S = 0.05  # scheduling slack only: recovery is taken out of the backoff


@pytest.fixture
def daq(daq_server: DaqServer) -> Iterator[Daq970a]:
    with Daq970a.open(daq_server.resource, timeout_s=2.0) as daq:
        yield daq


@pytest.fixture
def fragile_daq(daq_server: DaqServer) -> Iterator[Daq970a]:
    with Daq970a.open(daq_server.resource, timeout_s=FAULT_TIMEOUT_S) as daq:
        yield daq


@pytest.fixture
def dropping_daq(daq_server: DaqServer) -> Iterator[Daq970a]:
    with Daq970a.open(daq_server.resource, timeout_s=DROP_TIMEOUT_S) as daq:
        yield daq


def test_identity(daq: Daq970a) -> None:
    assert daq.identity() == IDN


def test_several_relays_at_once_with_readback(daq: Daq970a, daq_bench: StaticDaq) -> None:
    daq.close_relays([205, 201, 203, 204])
    assert daq_bench.closed == {201, 203, 204, 205}
    assert daq.relays_closed([201, 202, 203]) == {201: True, 202: False, 203: True}
    daq.open_relays([203, 204])
    assert daq_bench.closed == {201, 205}
    assert daq.relays_open([201, 203]) == {201: False, 203: True}
    daq.reset()
    assert daq_bench.closed == set()


def test_temperatures_in_kelvin_whatever_the_instrument_unit(
    daq_server: DaqServer, daq_bench: StaticDaq
) -> None:
    for unit in ("C", "F", "K"):
        daq_server.temperature_unit = unit  # as a front-panel user would have left it
        with Daq970a.open(daq_server.resource) as daq:
            assert daq.temperature_k(101) == pytest.approx(296.035, abs=1e-6)
            assert daq.temperatures_k([103, 101]) == pytest.approx({101: 296.035, 103: 296.25}, abs=1e-6)


def test_open_thermocouple_raises(daq: Daq970a) -> None:
    with pytest.raises(OverloadError) as caught:
        daq.temperatures_k([101, 104])
    assert caught.value.channels == [104]


def test_volts(daq: Daq970a) -> None:
    assert daq.volts(102) == 1.23456789


def test_error_queue(daq: Daq970a, daq_bench: StaticDaq) -> None:
    with pytest.raises(InstrumentError) as caught:
        daq.close_relays([201, 299])
    assert caught.value.code == -222
    assert daq_bench.closed == set()  # the whole list was refused
    with pytest.raises(InstrumentError) as caught:
        daq.temperature_k(121)  # no such input: refused at once, not a timeout
    assert caught.value.code == -222
    with pytest.raises(InstrumentError) as caught:
        daq.send("FOO")
    assert caught.value.code == -113
    assert daq.errors() == []  # each refusal drained what it queued
    daq.transport.write(b"FOO\n")  # a mistake from elsewhere, left in the queue
    assert daq.errors() == [ScpiError(-113, "Undefined header")]
    daq.transport.write(b"FOO\n")
    daq.clear()
    assert daq.errors() == []


def test_dropped_replies_are_retried_invisibly(
    dropping_daq: Daq970a, daq_bench: StaticDaq, faults: CountingFaults
) -> None:
    daq_bench.closed.update({201, 203})
    faults.drop_every = 50
    readbacks = [dropping_daq.relays_closed([201, 202, 203]) for _ in range(200)]
    assert readbacks == [{201: True, 202: False, 203: True}] * 200
    assert dropping_daq.stats.retries > 0


def test_dropped_connection_is_reconnected_by_the_next_call(
    fragile_daq: Daq970a, daq_server: DaqServer, faults: CountingFaults
) -> None:
    assert fragile_daq.volts(102) == 1.23456789
    faults.kinds["disconnect"] = 0.0
    with pytest.raises(DriverError):
        fragile_daq.volts(102)  # the server drops the connection and refuses new ones
    del faults.kinds["disconnect"]
    reconnects = fragile_daq.stats.reconnects
    assert fragile_daq.volts(102) == 1.23456789
    assert fragile_daq.stats.reconnects > reconnects


def test_persistent_timeout_is_raised_within_its_bound(daq_server: DaqServer, faults: CountingFaults) -> None:
    retry = RetryPolicy()
    bound_s = retry.attempts * FAULT_TIMEOUT_S + sum(retry.delays()) + JITTER_S
    with Daq970a.open(daq_server.resource, timeout_s=FAULT_TIMEOUT_S, retry=retry) as daq:
        assert daq.relays_closed([201]) == {201: False}
        faults.kinds["timeout"] = 0.0
        start = time.monotonic()
        with pytest.raises(InstrumentTimeoutError):
            daq.relays_closed([201])
        elapsed_s = time.monotonic() - start
    assert daq.stats.retries == 1
    assert retry.attempts * FAULT_TIMEOUT_S <= elapsed_s < bound_s, (
        f"{elapsed_s:.3f} s, bound {bound_s:.3f} s"
    )


def test_garbled_replies_never_yield_a_number(
    fragile_daq: Daq970a, daq_bench: StaticDaq, faults: CountingFaults
) -> None:
    daq_bench.closed.add(201)
    faults.kinds["garbled"] = 0.0
    with pytest.raises(ProtocolError):
        fragile_daq.temperature_k(101)
    with pytest.raises(ProtocolError):
        fragile_daq.volts(102)
    with pytest.raises(ProtocolError):
        fragile_daq.relays_closed([201])
    with pytest.raises(ProtocolError):
        fragile_daq.identity()
    assert fragile_daq.stats.retries == 4  # each was tried again before giving up
    del faults.kinds["garbled"]
    assert fragile_daq.temperature_k(101) == pytest.approx(296.035, abs=1e-6)
    assert fragile_daq.relays_closed([201]) == {201: True}
