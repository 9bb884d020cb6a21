"""The simulated TIC against the published client ``edwardsserial`` (0.3.3, PyPI), not our driver.

``edwardsserial`` opens ``serial.serial_for_url(port)`` for every message, so it reaches the
simulator as ``socket://127.0.0.1:PORT``, one TCP connection per message, and parses replies
with its own regular expressions. What it reads here is what our server prints: gauge
pressures, units, states, types, names, gas types and filters, the all-gauges object 940,
gauges switched off and on, and a refusal as its ``ErrorResponse``. Its ``TIC.status``,
``pressure_units`` getter, temperatures and display contrast are not exercised: they parse a
reply's field list as one number (``int([...])``) and fail on any TIC, real or simulated.
Each message costs the client 0.3 s (pyserial's ``socket://`` handler sleeps that long on close),
so the messages here are few.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tic import TicServer
from rig.sim.simulated_rig import SimulatedRig

edwardsserial = pytest.importorskip("edwardsserial", reason="edwardsserial is in the [test] extra")
from edwardsserial.serial_protocol import AlertID, ErrorResponse  # noqa: E402
from edwardsserial.tic import TIC  # noqa: E402

pytestmark = pytest.mark.integration

TRUE_PA = {1: 101325.0, 2: 1.5e-3, 3: 12.345}
TIC_BENCH = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "tic_chamber.yaml"
DISPLAY_REL = 5e-5


@pytest.fixture
def bench() -> StaticGauges:
    return StaticGauges(
        readings={n: GaugeReading(GaugeStatus.OK, pa) for n, pa in TRUE_PA.items()},
        sensor_ids={1: "CMR", 2: "PKR", 3: "TPR"},
        switchable_channels={2},
    )


@pytest.fixture
def server(bench: StaticGauges) -> Iterator[TicServer]:
    with TicServer(bench) as tic_server:
        yield tic_server


@pytest.fixture
def client(server: TicServer) -> TIC:
    return TIC(f"socket://127.0.0.1:{server.port}")


def test_each_gauges_pressure_in_pa(client: TIC) -> None:
    gauges = [client.gauge1, client.gauge2, client.gauge3]
    assert [g.pressure for g in gauges] == pytest.approx(list(TRUE_PA.values()), rel=DISPLAY_REL)
    assert [g.unit for g in gauges] == ["Pa", "Pa", "Pa"]
    assert [g.state for g in gauges] == ["11: On"] * 3
    assert [g.type for g in gauges] == ["2: EXP_CM", "15: WRG", "10: APGXH"]


def test_all_gauge_values_object_940(client: TIC, bench: StaticGauges) -> None:
    assert client.gauge_values == pytest.approx(TRUE_PA, rel=DISPLAY_REL)
    bench.readings[3] = GaugeReading(GaugeStatus.NO_SENSOR, 0.0)
    assert client.gauge_values == pytest.approx({1: TRUE_PA[1], 2: TRUE_PA[2]}, rel=DISPLAY_REL)


def test_an_out_of_range_gauge_warns_with_its_alert(client: TIC, bench: StaticGauges) -> None:
    bench.readings[3] = GaugeReading(GaugeStatus.UNDERRANGE, 1e-2)
    with pytest.warns(AlertID, match="11 \\(Under Range\\)"):
        assert client.gauge3.pressure == pytest.approx(1e-2)
    bench.readings[3] = GaugeReading(GaugeStatus.SENSOR_ERROR, 0.0)
    with pytest.warns(AlertID, match="1 \\(ADC Fault\\)"):
        assert client.gauge3.pressure is None


def test_gauge_switched_off_and_on(client: TIC, bench: StaticGauges) -> None:
    client.gauge2.off()
    assert not bench.sensor_on(2)
    assert client.gauge2.state == "5: Off"
    assert client.gauge2.pressure is None
    client.gauge2.on()
    assert client.gauge2.pressure == pytest.approx(TRUE_PA[2], rel=DISPLAY_REL)


def test_gauge_name_gas_type_and_filter(client: TIC, server: TicServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every gauge is in no alert: nothing to warn about
        assert client.gauge1.name == "G1"
        client.gauge1.name = "CH1"
        assert client.gauge1.name == "CH1"
        assert client.gauge1.gas_type == "0: Nitrogen"
        assert client.gauge1.filter is False
        client.gauge1.gas_type = 1
        client.gauge1.filter = True
        assert (client.gauge1.gas_type, client.gauge1.filter) == ("1: Helium", True)
    assert server.gas[1] == (1, 1)


def test_display_unit_set_and_refusals(client: TIC, server: TicServer) -> None:
    client.pressure_units = 3
    assert server.display_unit == 3
    with pytest.raises(ErrorResponse, match="error code 5"):
        client.gauge1.off()  # a capacitance gauge cannot be switched
    with pytest.raises(ErrorResponse, match="error code 4"):
        client.gauge1.gas_type = 6  # voltage: the simulated heads are pressure gauges only
    with pytest.raises(ErrorResponse, match="error code 1"):
        client.gauge1.degas()
    with pytest.raises(ErrorResponse, match="error code 2"):
        client.turbo_pump.on()


def test_the_shipped_benchs_simulated_tic() -> None:
    # The server a simulated run talks to, its gauges the bench's physics: all three at atmosphere.
    with SimulatedRig(load_bench(TIC_BENCH), VirtualClock(), seed=1) as rig:
        port = rig.resources()["gauges"]["resource"].split("::")[2]
        tic = TIC(f"socket://127.0.0.1:{port}")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pressures_pa = [tic.gauge1.pressure, tic.gauge2.pressure, tic.gauge3.pressure]
            assert [tic.gauge1.type, tic.gauge2.type, tic.gauge3.type] == [
                "15: WRG",
                "2: EXP_CM",
                "2: EXP_CM",
            ]
    assert all(9.0e4 < p < 1.1e5 for p in pressures_pa), pressures_pa
