"""The simulated MKS 937B against spec table 5.3, through pyvisa-py on TCPIP SOCKET and ASRLsocket.

Reads use pymeasure's pattern: ``read_termination=";"`` then ``read_bytes(2)`` for ``FF``.
Row numbers refer to table 5.3 of the project's protocol spec; the bytes are copied here.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.mks import MksServer, format_pressure
from tests.sim.servers.conftest import (
    RESOURCE_KINDS,
    TORR_PA,
    assert_silent,
    mks_gauges,
    mks_query,
    open_instrument,
)

pytestmark = pytest.mark.integration


def test_row1_pressure(mks: Any) -> None:
    mks.write_raw(b"@253PR1?;FF")
    assert mks.read_raw() == b"@253ACK1.10E-9;"
    assert mks.read_bytes(2) == b"FF"


def test_row2_all_pressures_space_separated(mks: Any) -> None:
    assert mks_query(mks, "PRZ?") == "@253ACK1.10E-9 7.60E+2 2.50E-7 1.00E-3 3.30E-8 4.00E-2"


def test_row3_unit_query(mks: Any) -> None:
    mks.write_raw(b"@253U?;FF")
    assert mks.read_raw() == b"@253ACKTORR;"
    assert mks.read_bytes(2) == b"FF"


def test_row4_unit_set_echoes_and_converts(mks: Any) -> None:
    mks.write_raw(b"@253U!mBAR;FF")
    assert mks.read_raw() == b"@253ACKmBAR;"
    assert mks.read_bytes(2) == b"FF"
    assert mks_query(mks, "U?") == "@253ACKmBAR"
    assert mks_query(mks, "PR2?") == "@253ACK1.01E+3"
    assert mks_query(mks, "U!PASCAL") == "@253ACKPASCAL"
    assert mks_query(mks, "PR2?") == "@253ACK1.01E+5"
    assert mks_query(mks, "U!MICRON") == "@253ACKMICRON"
    assert mks_query(mks, "PR4?") == "@253ACK1.00E+0"
    assert mks_query(mks, "U!torr") == "@253ACKTORR"
    assert mks_query(mks, "U!BAR") == "@253NAK169"
    assert mks_query(mks, "U?") == "@253ACKTORR"


def test_row5_channel_power(mks: Any, mks_server: MksServer) -> None:
    mks.write_raw(b"@253CP1?;FF")
    assert mks.read_raw() == b"@253ACKON;"
    assert mks.read_bytes(2) == b"FF"
    assert mks_query(mks, "CP1!OFF") == "@253ACKOFF"
    assert not mks_server.gauges.sensor_on(1)
    assert mks_query(mks, "PR1?") == "@253ACKOFF"
    assert mks_query(mks, "T1?") == "@253ACKO"
    mks.write_raw(b"@253CP1!ON;FF")
    assert mks.read_raw() == b"@253ACKON;"
    assert mks.read_bytes(2) == b"FF"
    assert mks_query(mks, "PR1?") == "@253ACK1.10E-9"


def test_channel_power_refusals(mks: Any) -> None:
    assert mks_query(mks, "CP1!MAYBE") == "@253NAK169"
    assert mks_query(mks, "CP2!OFF") == "@253NAK169"  # a Pirani that cannot be switched
    assert mks_query(mks, "CP2?") == "@253ACKON"


def test_row6_ion_gauge_status(mks: Any) -> None:
    mks.write_raw(b"@253T1?;FF")
    assert mks.read_raw() == b"@253ACKG;"
    assert mks.read_bytes(2) == b"FF"
    assert mks_query(mks, "T3?") == "@253ACKG"


def test_row7_not_an_ion_gauge(mks: Any) -> None:
    mks.write_raw(b"@253T2?;FF")
    assert mks.read_raw() == b"@253NAK152;"
    assert mks.read_bytes(2) == b"FF"
    assert mks_query(mks, "T6?") == "@253NAK152"


def test_row8_unknown_command(mks: Any) -> None:
    mks.write_raw(b"@253XYZ?;FF")
    assert mks.read_raw() == b"@253NAK160;"
    assert mks.read_bytes(2) == b"FF"


def test_row9_setpoint_relay_queries(mks: Any) -> None:
    for query, reply in [(b"SP1?", b"2.00E+0"), (b"SD1?", b"ABOVE"), (b"SS1?", b"CLEAR")]:
        mks.write_raw(b"@253" + query + b";FF")
        assert mks.read_raw() == b"@253ACK" + reply + b";"
        assert mks.read_bytes(2) == b"FF"


def test_setpoint_relay_follows_the_pressure(mks: Any) -> None:
    # Relay 3 watches channel 2 (760 Torr): above 2 Torr, so SET.
    assert mks_query(mks, "SS3?") == "@253ACKSET"
    assert mks_query(mks, "SD3!BELOW") == "@253ACKBELOW"
    assert mks_query(mks, "SS3?") == "@253ACKCLEAR"
    assert mks_query(mks, "SP3!1000") == "@253ACK1.00E+3"
    assert mks_query(mks, "SS3?") == "@253ACKSET"
    assert mks_query(mks, "SH3?") == "@253ACK2.20E+0"
    assert mks_query(mks, "EN3!CLEAR") == "@253ACKCLEAR"
    assert mks_query(mks, "SS3?") == "@253ACKCLEAR"
    assert mks_query(mks, "SP3!-1") == "@253NAK172"
    assert mks_query(mks, "SP3!abc") == "@253NAK169"
    assert mks_query(mks, "SD3!SIDEWAYS") == "@253NAK169"
    assert mks_query(mks, "SP13?") == "@253NAK169"


def test_setpoint_follows_the_unit(mks: Any) -> None:
    assert mks_query(mks, "U!PASCAL") == "@253ACKPASCAL"
    assert mks_query(mks, "SP1?") == "@253ACK2.67E+2"


def test_row10_other_address_gets_no_reply(mks: Any) -> None:
    mks.write_raw(b"@252PR1?;FF")
    assert_silent(mks)
    # Nothing stale is left behind: the next answer is the next query's.
    assert mks_query(mks, "PR1?") == "@253ACK1.10E-9"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (GaugeStatus.UNDERRANGE, "LO<E-11"),
        (GaugeStatus.OVERRANGE, "ATM"),
        (GaugeStatus.SENSOR_ERROR, "PROT_OFF"),
        (GaugeStatus.SENSOR_OFF, "OFF"),
        (GaugeStatus.NO_SENSOR, "MISCONN"),
        (GaugeStatus.IDENTIFICATION_ERROR, "MISCONN"),
    ],
)
def test_non_numeric_pressures(mks: Any, mks_server: MksServer, status: GaugeStatus, text: str) -> None:
    gauges = mks_server.gauges
    assert isinstance(gauges, StaticGauges)
    gauges.readings[4] = GaugeReading(status, 0.0)
    assert mks_query(mks, "PR4?") == f"@253ACK{text}"
    assert mks_query(mks, "PRZ?").split(" ")[3] == text


def test_nak_codes_for_malformed_requests(mks: Any) -> None:
    assert mks_query(mks, "PR7?") == "@253NAK169"  # no such channel
    assert mks_query(mks, "PR1") == "@253NAK175"  # neither ? nor !
    assert mks_query(mks, "PR1!5") == "@253NAK175"  # a query-only command set
    assert mks_query(mks, "PR1?X") == "@253NAK169"
    assert mks_query(mks, "PR?") == "@253NAK160"


def test_serial_number(mks: Any) -> None:
    assert mks_query(mks, "SN?") == "@253ACK0000000"


def test_noise_before_the_at_sign_is_dropped(mks: Any) -> None:
    mks.write_raw(b"\r\nxx@12@253PR2?;FF")
    assert mks.read() == "@253ACK7.60E+2"
    assert mks.read_bytes(2) == b"FF"


def test_a_frame_split_across_writes(mks: Any) -> None:
    mks.write_raw(b"@253P")
    mks.write_raw(b"R1?;F")
    mks.write_raw(b"F")
    assert mks.read() == "@253ACK1.10E-9"
    assert mks.read_bytes(2) == b"FF"


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_configurable_address(rm: Any, kind: str) -> None:
    with MksServer(mks_gauges(), address=1) as server:
        inst = open_instrument(rm, server, kind, read_termination=";", write_termination=";FF")
        try:
            assert mks_query(inst, "PR2?", address=1) == "@001ACK7.60E+2"
            inst.write_raw(b"@253PR2?;FF")
            assert_silent(inst)
        finally:
            inst.close()


def test_address_and_channel_count_are_validated() -> None:
    with pytest.raises(ValueError, match="001 to 254"):
        MksServer(mks_gauges(), address=255)
    gauges = StaticGauges({ch: GaugeReading(GaugeStatus.OK, 1.0) for ch in range(1, 8)})
    with pytest.raises(ValueError, match="1 to 6"):
        MksServer(gauges)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.1e-9, "1.10E-9"),
        (760.0, "7.60E+2"),
        (2.0, "2.00E+0"),
        (7.602e2, "7.60E+2"),
        (1.23456e-12, "1.23E-12"),
    ],
)
def test_three_significant_digits(value: float, text: str) -> None:
    assert format_pressure(value) == text
    assert format_pressure(value * TORR_PA / TORR_PA) == text
