"""The simulated XGS-600 against the manual's Table B-1, through pyvisa-py and raw sockets.

Bytes copied here (tests never read the shared spec): ``#`` + address ``aa`` (``00`` on RS-232)
+ two-hex-digit command + data + ``<CR>``; ``>`` + data + ``<CR>`` back; ``?FF<CR>`` for an
invalid command, data or length; no reply to another address or to a frame without ``<CR>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.xgs import XgsServer, board_code, format_pressure
from tests.sim.servers.conftest import (
    RESOURCE_KINDS,
    TORR_PA,
    RawClient,
    SwitchableFaults,
    assert_silent,
    open_instrument,
)

pytestmark = pytest.mark.integration


def xgs_gauges() -> StaticGauges:
    """Slot 1: a convection gauge at 760 Torr and one at 1.234e-3 Torr; slot 2: an ion gauge at 5e-9 Torr."""
    return StaticGauges(
        readings={
            1: GaugeReading(GaugeStatus.OK, 760.0 * TORR_PA),
            2: GaugeReading(GaugeStatus.OK, 1.234e-3 * TORR_PA),
            3: GaugeReading(GaugeStatus.OK, 5.0e-9 * TORR_PA),
            4: GaugeReading(GaugeStatus.NO_SENSOR, 0.0),
        },
        sensor_ids={1: "CNV", 2: "CNV", 3: "HFIG", 4: "noSENSOR"},
    )


@pytest.fixture
def gauges() -> StaticGauges:
    return xgs_gauges()


@pytest.fixture
def xgs_server(gauges: StaticGauges, faults: SwitchableFaults) -> Iterator[XgsServer]:
    with XgsServer(gauges, faults=faults, labels={1: "GATE"}) as server:
        yield server


@pytest.fixture(params=RESOURCE_KINDS)
def xgs(request: pytest.FixtureRequest, rm: Any, xgs_server: XgsServer) -> Iterator[Any]:
    inst = open_instrument(rm, xgs_server, request.param, read_termination="\r", write_termination="\r")
    yield inst
    inst.close()


def test_contents(xgs: Any) -> None:
    xgs.write_raw(b"#0001\r")
    assert xgs.read_raw() == b">4010FEFEFEFE\r"


def test_one_sensor_by_code_and_label(xgs: Any) -> None:
    assert xgs.query("#0002T1") == ">7.600E+02"
    assert xgs.query("#0002T2") == ">1.234E-03"
    assert xgs.query("#0002I1") == ">5.000E-09"
    assert xgs.query("#0002UGATE") == ">7.600E+02"
    assert xgs.query("#0002UI1") == ">5.000E-09"  # the default label is the sensor code
    assert xgs.query("#0002UT1") == "?FF"  # T1 is labelled GATE
    assert xgs.query("#0002T3") == ">NOCBL"  # channel 4: the third non-ion sensor
    assert xgs.query("#0002I2") == "?FF"
    assert xgs.query("#0002") == "?FF"


def test_dump_in_channel_order(xgs: Any) -> None:
    xgs.write_raw(b"#000F\r")
    assert xgs.read_raw() == b">7.600E+02,1.234E-03,5.000E-09,NOCBL\r"


def test_units_set_and_read(xgs: Any, xgs_server: XgsServer) -> None:
    assert xgs.query("#0013") == ">00"
    xgs.write_raw(b"#0011\r")
    assert xgs.read_raw() == b">\r"
    assert xgs.query("#0013") == ">01"
    assert xgs.query("#0002T1") == ">1.013E+03"
    assert xgs.query("#0012") == ">"
    assert xgs.query("#0002T1") == ">1.013E+05"
    assert xgs.query("#0010") == ">"
    assert xgs_server.unit_code == "00"
    assert xgs.query("#0013") == ">00"


def test_setpoints_and_revisions(xgs: Any) -> None:
    assert xgs.query("#0003") == ">0000"
    assert xgs.query("#0005") == ">0110,0102,0102"


@pytest.mark.parametrize("command", ["#00FF", "#0099", "#0001X", "#000F1", "#0013 ", "#00", "#000f", "#00ZZ"])
def test_invalid_commands(xgs: Any, command: str) -> None:
    assert xgs.query(command) == "?FF"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (GaugeStatus.SENSOR_OFF, "OFF"),
        (GaugeStatus.NO_SENSOR, "NOCBL"),
        (GaugeStatus.IDENTIFICATION_ERROR, "NOCBL"),
        (GaugeStatus.SENSOR_ERROR, "OPEN"),
        (GaugeStatus.UNDERRANGE, "<1.000E-04"),
        (GaugeStatus.OVERRANGE, ">1.000E+03"),
    ],
)
def test_states(xgs: Any, gauges: StaticGauges, status: GaugeStatus, text: str) -> None:
    limit_pa = {GaugeStatus.UNDERRANGE: 1e-4 * TORR_PA, GaugeStatus.OVERRANGE: 1000.0 * TORR_PA}.get(
        status, 0.0
    )
    gauges.readings[2] = GaugeReading(status, limit_pa)
    assert xgs.query("#000F") == f">7.600E+02,{text},5.000E-09,NOCBL"
    assert xgs.query("#0002T2") == ">" + text


def test_other_address_and_unterminated_frames_get_no_reply(xgs: Any) -> None:
    xgs.write_raw(b"#010F\r")
    assert_silent(xgs)
    xgs.write_raw(b"#000F")  # no <CR>: nothing yet
    assert_silent(xgs)
    xgs.write_raw(b"\r")  # ... until it comes
    assert xgs.read_raw().startswith(b">7.600E+02")


def test_line_feed_and_noise_are_ignored(xgs: Any) -> None:
    xgs.write_raw(b"\n#0013\r\n")
    assert xgs.read_raw() == b">00\r"
    xgs.write_raw(b"xx#00\n13\r")
    assert xgs.read_raw() == b">00\r"


def test_rs485_address(gauges: StaticGauges, clients: list[RawClient]) -> None:
    with XgsServer(gauges, address=0x1A) as server:
        client = RawClient.connect(server)
        clients.append(client)
        client.send(b"#000F\r")
        assert client.nothing_within()
        client.send(b"#1A13\r")
        assert client.read_until(b"\r") == b">00\r"
        assert len(server.arrivals_s) == 1  # only its own commands count


def test_garbled_reply_keeps_its_terminator(xgs: Any, faults: SwitchableFaults) -> None:
    faults.set("garbled")
    xgs.write_raw(b"#000F\r")
    reply = xgs.read_raw()
    assert reply.endswith(b"\r") and not reply.startswith(b">") and b"?FF" not in reply
    faults.clear()
    assert xgs.query("#0013") == ">00"


def test_format_and_board_codes() -> None:
    assert format_pressure(1.0e-2) == "1.000E-02"
    assert format_pressure(101325.0) == "1.013E+05"
    assert board_code(["noSENSOR", "PKR"]) == "3A"
    assert board_code(["BA"]) == "10"
    assert board_code(["TPR/PCR", "CMR"]) == "40"
    assert board_code(["CMR"]) == "4C"
    assert board_code(["noSENSOR", "noSENSOR"]) == "FE"


def test_construction_is_checked(gauges: StaticGauges) -> None:
    with pytest.raises(ValueError, match="addresses"):
        XgsServer(gauges, address=0x21)
    with pytest.raises(ValueError, match="Torr, mbar or Pa"):
        XgsServer(gauges, unit="MICRON")
    with pytest.raises(ValueError, match="user label"):
        XgsServer(gauges, labels={1: "gate"})
    with pytest.raises(ValueError, match="1 to 12 sensors"):
        XgsServer(StaticGauges(readings={n: GaugeReading(GaugeStatus.OK, 1.0) for n in range(1, 14)}))
