"""The simulated INFICON VGC 50x through pyvisa-py on TCPIP SOCKET and ASRLsocket: its own rules.

What it shares with the TPG 36x (framing, ERROR word, ``<ETX>``, unit codes, one client at a
time) is the TPG server's code, tested in ``test_tpg_server.py``; these are the VGC dialect's
bytes (operating manual tina96e1-b pp. 70-73, 97 and the choices in ``rig/sim/servers/vgc.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.vgc import VgcServer
from tests.sim.servers.conftest import RESOURCE_KINDS, SwitchableFaults, open_instrument, tpg_exchange

pytestmark = pytest.mark.integration

ACK = "\x06"
NAK = "\x15"
TORR_PA = 101325.0 / 760.0
IDENTITY = "VGC503,398-483,100,1.00,1.0"
# 0.12345 Pa, 98700 Pa and 1e-5 Pa in mbar.
PRX_MBAR = "0,1.2345E-03,0,9.8700E+02,0,1.0000E-07"


def vgc_gauges() -> StaticGauges:
    """A VGC 503 bench: an MPG at 1.2345e-3 mbar, a CDG at 987 mbar, a BPG at 1e-7 mbar.

    The MPG and the BPG have a high voltage to switch (``HVC``), the CDG none.
    """
    return StaticGauges(
        readings={
            1: GaugeReading(GaugeStatus.OK, 0.12345),
            2: GaugeReading(GaugeStatus.OK, 98700.0),
            3: GaugeReading(GaugeStatus.OK, 1.0e-5),
        },
        sensor_ids={1: "MPG", 2: "CDG", 3: "BPG"},
        switchable_channels={1, 3},
    )


@pytest.fixture
def vgc_server(faults: SwitchableFaults) -> Iterator[VgcServer]:
    with VgcServer(vgc_gauges(), faults=faults) as server:
        yield server


@pytest.fixture(params=RESOURCE_KINDS)
def vgc(request: pytest.FixtureRequest, rm: Any, vgc_server: VgcServer) -> Iterator[Any]:
    inst = open_instrument(rm, vgc_server, request.param, read_termination="\r\n", write_termination="\r")
    yield inst
    inst.close()


def _gauges(server: VgcServer) -> StaticGauges:
    gauges = server.gauges
    assert isinstance(gauges, StaticGauges)
    return gauges


@pytest.mark.parametrize("terminator", [b"\r", b"\r\n"])
def test_ayt_names_type_model_number_serial_firmware_hardware(vgc: Any, terminator: bytes) -> None:
    vgc.write_raw(b"AYT" + terminator)
    assert vgc.read_raw() == b"\x06\r\n"
    vgc.write_raw(b"\x05")
    assert vgc.read_raw() == IDENTITY.encode() + b"\r\n"


def test_prn_and_prx_in_the_current_unit(vgc: Any) -> None:
    assert tpg_exchange(vgc, "PR1") == (ACK, "0,1.2345E-03")
    assert tpg_exchange(vgc, "PR3") == (ACK, "0,1.0000E-07")
    assert tpg_exchange(vgc, "PRX") == (ACK, PRX_MBAR)
    assert tpg_exchange(vgc, "UNI,1") == (ACK, "1")
    assert tpg_exchange(vgc, "PR2") == (ACK, f"0,{98700.0 / TORR_PA:.4E}")
    assert tpg_exchange(vgc, "UNI,2") == (ACK, "2")
    assert tpg_exchange(vgc, "PRX") == (ACK, "0,1.2345E-01,0,9.8700E+04,0,1.0000E-05")


@pytest.mark.parametrize(
    ("code", "pr2"), [("0", "9.8700E+02"), ("3", f"{98700.0 / (TORR_PA / 1000.0):.4E}"), ("4", "9.8700E+02")]
)
def test_unit_table_is_the_tpg36x_one(vgc: Any, code: str, pr2: str) -> None:
    assert tpg_exchange(vgc, f"UNI,{code}") == (ACK, code)
    assert tpg_exchange(vgc, "PR2") == (ACK, f"0,{pr2}")


def test_a_unit_beyond_volt_is_nak_with_par(vgc: Any) -> None:
    assert tpg_exchange(vgc, "UNI,6") == (NAK, "0010")
    assert tpg_exchange(vgc, "UNI") == (ACK, "0")


def test_tid_names_the_three_gauges(vgc: Any) -> None:
    assert tpg_exchange(vgc, "TID") == (ACK, "MPG,CDG,BPG")


def test_status_7_is_a_bpg_hpg_or_bcg_error_and_3_any_other(vgc: Any, vgc_server: VgcServer) -> None:
    gauges = _gauges(vgc_server)
    for channel in (2, 3):
        gauges.readings[channel] = GaugeReading(GaugeStatus.SENSOR_ERROR, 0.0)
    assert tpg_exchange(vgc, "PR3") == (ACK, "7,0.0000E+00")
    assert tpg_exchange(vgc, "PR2") == (ACK, "3,0.0000E+00")
    assert tpg_exchange(vgc, "PRX") == (ACK, "0,1.2345E-03,3,0.0000E+00,7,0.0000E+00")
    for gauge in ("HPG", "BCG"):
        gauges.sensor_ids[2] = gauge
        assert tpg_exchange(vgc, "PR2") == (ACK, "7,0.0000E+00")


@pytest.mark.parametrize(
    ("status", "printed"),
    [
        (GaugeStatus.UNDERRANGE, "1,1.0000E-06"),
        (GaugeStatus.OVERRANGE, "2,1.0000E-06"),
        (GaugeStatus.SENSOR_OFF, "4,0.0000E+00"),
        (GaugeStatus.NO_SENSOR, "5,2.0000E-02"),
        (GaugeStatus.IDENTIFICATION_ERROR, "6,0.0000E+00"),
    ],
)
def test_the_tpg_statuses_print_alike(
    vgc: Any, vgc_server: VgcServer, status: GaugeStatus, printed: str
) -> None:
    _gauges(vgc_server).readings[3] = GaugeReading(status, 1.0e-4)
    assert tpg_exchange(vgc, "PR3") == (ACK, printed)


@pytest.mark.parametrize("mnemonic", ["SEN", "SEN,1,0,0", "FIL", "PR4", "XYZ"])
def test_the_tpg_only_mnemonics_are_syntax_errors(vgc: Any, mnemonic: str) -> None:
    assert tpg_exchange(vgc, mnemonic) == (NAK, "0001")
    assert tpg_exchange(vgc, "ERR") == (ACK, "0000")


def test_continuous_output_carries_three_pairs(vgc: Any) -> None:
    vgc.write("COM,0")
    assert vgc.read() == ACK
    assert [vgc.read() for _ in range(2)] == [PRX_MBAR, PRX_MBAR]
    vgc.write_raw(b"\x03")  # any character stops the stream


@pytest.mark.parametrize(
    ("channels", "model", "number"),
    [(1, "VGC501", "398-481"), (2, "VGC502", "398-482"), (3, "VGC503", "398-483")],
)
def test_model_follows_the_channel_count_and_lines_keep_three_channels(
    rm: Any, channels: int, model: str, number: str
) -> None:
    gauges = StaticGauges(
        {ch: GaugeReading(GaugeStatus.OK, 100.0 * ch) for ch in range(1, channels + 1)},
        sensor_ids=dict.fromkeys(range(1, channels + 1), "CDG"),
    )
    with VgcServer(gauges) as server:
        inst = open_instrument(rm, server, "tcpip", read_termination="\r\n", write_termination="\r")
        try:
            assert tpg_exchange(inst, "AYT") == (ACK, f"{model},{number},100,1.00,1.0")
            assert tpg_exchange(inst, f"PR{channels}") == (ACK, f"0,{float(channels):.4E}")
            assert tpg_exchange(inst, f"PR{channels + 1}") == (NAK, "0001")
            present = [f"0,{float(ch):.4E}" for ch in range(1, channels + 1)]
            absent = ["5,2.0000E-02"] * (3 - channels)
            assert tpg_exchange(inst, "PRX") == (ACK, ",".join(present + absent))
            assert tpg_exchange(inst, "TID") == (
                ACK,
                ",".join(["CDG"] * channels + ["noSEn"] * (3 - channels)),
            )
        finally:
            inst.close()


def test_a_channel_count_beyond_three_is_refused() -> None:
    gauges = StaticGauges({ch: GaugeReading(GaugeStatus.OK, 1.0) for ch in range(1, 5)})
    with pytest.raises(ValueError, match="1 to 3"):
        VgcServer(gauges)


def test_hvc_reads_and_switches_the_high_voltage(vgc: Any, vgc_server: VgcServer) -> None:
    assert tpg_exchange(vgc, "HVC") == (ACK, "1,0,1")
    assert tpg_exchange(vgc, "HVC,0,0,1") == (ACK, "0,0,1")
    assert tpg_exchange(vgc, "PR1") == (ACK, "4,0.0000E+00")
    assert _gauges(vgc_server).off_channels == {1}
    assert tpg_exchange(vgc, "HVC,1,0,1") == (ACK, "1,0,1")
    assert tpg_exchange(vgc, "PR1") == (ACK, "0,1.2345E-03")


@pytest.mark.parametrize("params", ["1,1,1", "0,0", "0,0,0,0", "2,0,0", "x,0,0"])
def test_hvc_refuses_a_gauge_without_high_voltage_and_malformed_sets(
    vgc: Any, vgc_server: VgcServer, params: str
) -> None:
    assert tpg_exchange(vgc, f"HVC,{params}") == (NAK, "0010")
    assert tpg_exchange(vgc, "HVC") == (ACK, "1,0,1")  # nothing changed
    assert _gauges(vgc_server).off_channels == set()


def test_hvc_on_a_channel_the_model_lacks_is_refused(rm: Any) -> None:
    gauges = StaticGauges({1: GaugeReading(GaugeStatus.OK, 1.0)}, switchable_channels={1})
    with VgcServer(gauges) as server:
        inst = open_instrument(rm, server, "tcpip", read_termination="\r\n", write_termination="\r")
        try:
            assert tpg_exchange(inst, "HVC") == (ACK, "1,0,0")
            assert tpg_exchange(inst, "HVC,1,0,1") == (NAK, "0010")
            assert tpg_exchange(inst, "HVC,0,0,0") == (ACK, "0,0,0")
        finally:
            inst.close()
