"""Byte-exact unit tests of the Alicat driver with a scripted transport.

The protocol spec's table 5.4 (unit A, ``\\r`` terminated both ways), copied here because tests
never read the shared spec:

    A\\r        -> A +014.70 +025.00 +000.000 +000.000 +000.000     N2\\r
    AS5.00\\r   -> A +014.70 +025.00 +005.000 +005.000 +005.000     N2\\r
    AR122\\r    -> A   122 = 37\\r
    B\\r        -> (other unit) no reply

The transport strips the ``\\r`` of a reply, so the scripted replies below have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from drivers.alicat import PA_PER_PSI, AlicatController, AlicatMeter, unit_id
from drivers.base import RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
)
from drivers.models import MODELS
from drivers.readings import FlowState
from tests.drivers.scripted import Reply, ScriptedTransport

Exchange = tuple[bytes, Sequence[Reply]]
FLOW = MODELS["AlicatMC-10SCCM"].flow
assert FLOW is not None
MOL_S_PER_SCCM = FLOW.mol_s_per_sccm
IDLE = b"A +014.70 +025.00 +000.000 +000.000 +000.000     N2"
FIVE = b"A +014.70 +025.00 +005.000 +005.000 +005.000     N2"
R122_FLOW: Exchange = (b"AR122\r", [b"A   122 = 37"])
R122_PRESSURE: Exchange = (b"AR122\r", [b"A   122 = 34"])


class Driver:
    """A controller (or meter) on a scripted transport, its waits recorded instead of slept."""

    def __init__(self, script: Sequence[Exchange], unit: str = "A", meter: bool = False) -> None:
        self.transport = ScriptedTransport(script)
        self.sleeps: list[float] = []
        cls = AlicatMeter if meter else AlicatController
        self.alicat = cls(self.transport, unit, retry=RetryPolicy(attempts=2), sleep=self.sleeps.append)

    def done(self) -> None:
        self.transport.assert_done()


def test_standard_conditions_are_alicats_defaults() -> None:
    # 1 sccm at 25 °C and 14.696 psia (101325 Pa): p·V/(R·T) per minute.
    assert pytest.approx(101325.0 * 1e-6 / 60.0 / (8.314462618 * 298.15), rel=1e-12) == MOL_S_PER_SCCM
    assert pytest.approx(6.8123e-7, rel=1e-4) == MOL_S_PER_SCCM


def test_the_poll_reads_the_frame_in_si() -> None:
    d = Driver([(b"A\r", [FIVE])])
    reading = d.alicat.read_flow(1)
    assert reading.state is FlowState.OK
    assert reading.mass_flow_mol_s == pytest.approx(5.0 * MOL_S_PER_SCCM)
    assert reading.pressure_pa == pytest.approx(14.70 * PA_PER_PSI)
    assert reading.temperature_k == pytest.approx(298.15)
    assert reading.setpoint is None  # the loop it is on was never read: no unit for the setpoint
    d.done()


def test_the_setpoint_is_in_the_loops_unit_once_the_loop_is_known() -> None:
    d = Driver([R122_FLOW, (b"A\r", [FIVE]), R122_PRESSURE, (b"A\r", [FIVE])])
    assert d.alicat.control_point() == 37  # type: ignore[attr-defined]
    assert d.alicat.read_flow(1).setpoint == pytest.approx(5.0 * MOL_S_PER_SCCM)
    assert d.alicat.control_point() == 34  # type: ignore[attr-defined]
    assert d.alicat.read_flow(1).setpoint == pytest.approx(5.0 * PA_PER_PSI)
    d.done()


def test_a_meter_frame_has_no_setpoint_and_a_totalizer_is_allowed() -> None:
    d = Driver(
        [
            (b"A\r", [b"A +014.70 +025.00 +001.000 +001.000     N2"]),
            (b"A\r", [b"A +014.70 +025.00 +001.000 +001.000 +123.4 Ar"]),
        ],
        meter=True,
    )
    assert d.alicat.read_flow(1).mass_flow_mol_s == pytest.approx(MOL_S_PER_SCCM)
    assert d.alicat.data_frame().gas == "Ar"
    d.done()


@pytest.mark.parametrize("flag", ["MOV", "VOV", "POV", "TOV"])
def test_an_over_range_flag_reads_as_over_range(flag: str) -> None:
    d = Driver([(b"A\r", [IDLE + b" " + flag.encode()])])
    assert d.alicat.read_flow(1).state is FlowState.OVERRANGE
    d.done()


def test_a_locked_panel_is_no_fault_and_an_unknown_flag_is_the_meters_own() -> None:
    d = Driver([(b"A\r", [IDLE + b" LCK"]), (b"A\r", [IDLE + b" ADC"])])
    assert d.alicat.read_flow(1).state is FlowState.OK
    assert d.alicat.read_flow(1).state is FlowState.SENSOR_ERROR
    d.done()


def test_identity_is_the_unit_and_its_firmware() -> None:
    d = Driver([(b"AVE\r", [b"A   10v05.0-R24 Jan 01 2024,00:00:00"])])
    assert d.alicat.identity() == "Alicat A,10v05.0-R24 Jan 01 2024,00:00:00"
    d.done()


def test_the_unit_id_prefixes_every_command() -> None:
    d = Driver([(b"C\r", [b"C +014.70 +025.00 +000.000 +000.000 +000.000     N2"])], unit="C")
    assert d.alicat.read_flow(1).ok
    d.done()


def test_a_bench_address_is_the_unit_ids_letter() -> None:
    assert [unit_id(None), unit_id(1), unit_id(2), unit_id(26)] == ["A", "A", "B", "Z"]
    with pytest.raises(ValueError, match="A to Z"):
        unit_id(27)


def test_hold_pressure_switches_the_loop_then_sets_the_setpoint_each_read_back() -> None:
    psia = round(2e5 / PA_PER_PSI, 3)
    held = f"A +029.01 +025.00 +000.100 +000.100 +{psia:07.3f}     N2".encode()
    d = Driver(
        [
            R122_FLOW,
            (b"AS0.000\r", [IDLE]),
            (b"A\r", [IDLE]),
            (b"AW122=34\r", [b"A   122 = 34"]),
            R122_PRESSURE,
            (f"AS{psia:.3f}\r".encode(), [held]),
            (b"A\r", [held]),
        ]
    )
    d.alicat.hold_pressure(1, 2e5)  # type: ignore[attr-defined]
    d.done()


def test_hold_pressure_on_the_pressure_loop_only_sets_the_setpoint() -> None:
    held = b"A +029.01 +025.00 +000.100 +000.100 +029.008     N2"
    d = Driver([R122_PRESSURE, (b"AS29.008\r", [held]), (b"A\r", [held])])
    d.alicat.hold_pressure(1, 29.008 * PA_PER_PSI)  # type: ignore[attr-defined]
    d.done()


def test_a_setpoint_not_read_back_is_not_confirmed() -> None:
    d = Driver([R122_PRESSURE, (b"AS29.008\r", [IDLE]), (b"A\r", [IDLE])])
    with pytest.raises(ActuationNotConfirmedError, match=r"pressure setpoint 29\.008 psia not confirmed"):
        d.alicat.hold_pressure(1, 29.008 * PA_PER_PSI)  # type: ignore[attr-defined]
    d.done()


def test_stop_flow_zeroes_the_setpoint_and_returns_to_the_flow_loop() -> None:
    d = Driver(
        [
            (b"AS0.000\r", [IDLE]),
            (b"A\r", [IDLE]),
            R122_PRESSURE,
            (b"AW122=37\r", [b"A   122 = 37"]),
            R122_FLOW,
            (b"AS0.000\r", [IDLE]),
            (b"A\r", [IDLE]),
        ]
    )
    d.alicat.stop_flow(1)  # type: ignore[attr-defined]
    d.done()


def test_a_control_point_not_read_back_is_not_confirmed() -> None:
    d = Driver(
        [
            (b"AS0.000\r", [IDLE]),
            (b"A\r", [IDLE]),
            R122_PRESSURE,
            (b"AW122=37\r", [b"A   122 = 37"]),
            R122_PRESSURE,
        ]
    )
    with pytest.raises(ActuationNotConfirmedError, match="control point 37 not confirmed"):
        d.alicat.stop_flow(1)  # type: ignore[attr-defined]
    d.done()


def test_a_refusal_is_the_instruments_error_and_not_retried() -> None:
    d = Driver([(b"AS0.000\r", [b"A ?"])])
    with pytest.raises(InstrumentError, match="refused") as caught:
        d.alicat.stop_flow(1)  # type: ignore[attr-defined]
    assert caught.value.code == "?"
    d.done()


def test_a_garbled_frame_is_retried_after_a_resync() -> None:
    d = Driver([(b"A\r", [b"A +01#.70 $$ N2 %%"]), (b"A\r", [FIVE])])
    assert d.alicat.read_flow(1).mass_flow_mol_s == pytest.approx(5.0 * MOL_S_PER_SCCM)
    assert d.transport.discards >= 1 and d.alicat.stats.retries == 1
    d.done()


def test_a_reply_from_another_unit_is_out_of_step() -> None:
    d = Driver([(b"A\r", [b"B +014.70 +025.00 +000.000 +000.000 +000.000     N2"]), (b"A\r", [IDLE])])
    assert d.alicat.read_flow(1).ok
    assert d.alicat.stats.retries == 1
    d.done()


def test_a_timeout_reconnects_and_retries_then_gives_up() -> None:
    d = Driver([(b"A\r", []), (b"A\r", [])])
    with pytest.raises(InstrumentTimeoutError):
        d.alicat.read_flow(1)
    assert d.transport.reconnects == 1 and d.sleeps
    d.done()


def test_a_lost_connection_reconnects_and_the_query_is_answered() -> None:
    d = Driver([(b"A\r", [InstrumentDisconnectedError("reset")]), (b"A\r", [FIVE])])
    assert d.alicat.read_flow(1).ok
    assert d.transport.reconnects == 1
    d.done()


def test_an_actuation_is_never_sent_twice() -> None:
    # The setpoint's reply timed out: it may have acted, so it is not re-sent.
    d = Driver([(b"AS0.000\r", [])])
    with pytest.raises(InstrumentTimeoutError):
        d.alicat.stop_flow(1)  # type: ignore[attr-defined]
    d.done()


def test_there_is_one_flow_channel() -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="one flow channel"):
        d.alicat.read_flow(2)
