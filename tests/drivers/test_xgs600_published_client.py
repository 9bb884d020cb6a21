"""The simulated XGS-600 against a published client: ``agilentxgs600`` (PyPI pyagilentxgs600-tspspi).

That client takes a pyserial port object as well as a device path, so it is given
``serial_for_url("socket://127.0.0.1:PORT")``: the same bytes it would send down an RS-232
line reach our simulated controller. It converts Torr to mbar with 1.333223684, Pa by /100,
and spaces its queries by 0.11 s (the manual's 10 per second), so these tests are slowish.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import serial
from agilentxgs600 import XGS600_RS232, XGS600ProtocolError
from labdevices.pressuregauge import PressureGaugeUnit

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.xgs import XgsServer

pytestmark = pytest.mark.integration

DIGITS_REL = 5e-4  # 4 significant digits
TRUE_PA = {1: 101325.0, 2: 1.5e-3, 3: 2.5}


@pytest.fixture
def bench() -> StaticGauges:
    return StaticGauges(
        readings={ch: GaugeReading(GaugeStatus.OK, pa) for ch, pa in TRUE_PA.items()},
        sensor_ids={1: "CMR", 2: "HFIG", 3: "CNV"},
    )


@pytest.fixture
def server(bench: StaticGauges) -> Iterator[XgsServer]:
    with XgsServer(bench, labels={3: "GATE"}) as running:
        yield running


@pytest.fixture
def client(server: XgsServer) -> Iterator[Any]:
    port = serial.serial_for_url(f"socket://127.0.0.1:{server.port}", timeout=2.0)
    try:
        with XGS600_RS232(port, sensor="T1", timeout=2.0) as gauge:
            yield gauge
    finally:
        port.close()


def test_contents_versions_and_setpoints(client: Any) -> None:
    assert [slot["type"] for slot in client.get_contents()] == [
        "ANALOG",
        "CNV",
        "EMPTY",
        "EMPTY",
        "EMPTY",
        "EMPTY",
    ]
    assert client.get_versions() == ["0110", "0102", "0102"]
    assert client.get_setpoint_states() == dict.fromkeys(range(1, 9), False)


def test_pressures_by_code_and_label(client: Any) -> None:
    measurement = client.get_measurement()
    assert measurement["sensor"] == "T1"
    assert measurement["pressureUnit"] is PressureGaugeUnit.TORR
    assert measurement["pressure_mbar"] * 100.0 == pytest.approx(TRUE_PA[1], rel=DIGITS_REL)
    assert client.get_pressure(PressureGaugeUnit.PASCAL, sensor="I1") == pytest.approx(
        TRUE_PA[2], rel=DIGITS_REL
    )
    assert client.get_pressure(PressureGaugeUnit.PASCAL, sensor="UGATE") == pytest.approx(
        TRUE_PA[3], rel=DIGITS_REL
    )


def test_unit_round_trip(client: Any, server: XgsServer) -> None:
    for unit, code in (
        (PressureGaugeUnit.PASCAL, "02"),
        (PressureGaugeUnit.MBAR, "01"),
        (PressureGaugeUnit.TORR, "00"),
    ):
        assert client.set_unit(unit) is True
        assert server.unit_code == code
        assert client.get_unit() is unit
        assert client.get_measurement()["pressure_mbar"] * 100.0 == pytest.approx(TRUE_PA[1], rel=DIGITS_REL)


def test_refusals_and_states_are_errors_to_it(client: Any, bench: StaticGauges) -> None:
    with pytest.raises(XGS600ProtocolError, match=r"\?FF"):
        client.get_measurement(sensor="T9")
    bench.readings[1] = GaugeReading(GaugeStatus.SENSOR_OFF, 0.0)
    with pytest.raises(XGS600ProtocolError, match="'OFF'"):
        client.get_measurement()
    bench.readings[1] = GaugeReading(GaugeStatus.OVERRANGE, 133322.0)
    with pytest.raises(XGS600ProtocolError, match=r"'>1\.000E"):
        client.get_measurement()


def test_its_pacing_is_seen_by_the_simulator(client: Any, server: XgsServer) -> None:
    client.get_measurement()  # three commands: unit, pressure, unit
    gaps = [b - a for a, b in itertools.pairwise(server.arrivals_s)]
    assert len(gaps) == 2
    # It waits 0.11 s; a loaded machine may hand one command to the server a little late.
    assert min(gaps) >= 0.07, gaps
