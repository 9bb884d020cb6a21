"""Byte-exact unit tests of the MKS 937B driver with a scripted transport.

Every row of the protocol spec's table 5.3 (MKS 937B, address 253, no CR/LF anywhere) is
exercised below; the bytes are copied here because tests never read the shared spec:

    1  @253PR1?;FF                       -> @253ACK1.10E-9;FF
    2  @253PRZ?;FF                       -> @253ACK1.10E-9 7.60E+2 …;FF   (separator [UNVERIFIED])
    3  @253U?;FF                         -> @253ACKTORR;FF
    4  @253U!mBAR;FF                     -> @253ACKmBAR;FF
    5  @253CP1?;FF / @253CP1!ON;FF       -> @253ACKON;FF
    6  @253T1?;FF                        -> @253ACKG;FF   (W,O,P,D,C,R,H,N,G)
    7  @253T2?;FF                        -> @253NAK152;FF (not an ion gauge channel)
    8  @253XYZ?;FF                       -> @253NAK160;FF
    9  @253SP1?;FF / SD1? / SS1?         -> @253ACK2.00E+0;FF / @253ACKABOVE;FF / @253ACKCLEAR;FF
    10 @252PR1?;FF (other address)       -> no reply

Plus the manual's example ``@003PR1?;FF`` -> ``@003ACK7.602E+2;FF`` and the documented NAK codes
8, 9, 160, 169, 172, 175, 180.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from drivers.base import RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.mks937b import (
    IonGaugeStatus,
    Mks937b,
    PressureUnit,
    RelayEnable,
    RelaySetpoint,
    SetpointDirection,
)
from drivers.readings import GaugeState
from tests.drivers.scripted import Reply, ScriptedTransport

TORR_PA = 101325.0 / 760.0
Exchange = tuple[bytes, Sequence[Reply]]


def reply(frame: bytes) -> list[Reply]:
    """A whole reply frame as the transport hands it over: up to ``;``, then the two ``F``."""
    assert frame.endswith(b";FF"), frame
    return [frame[:-3], b"FF"]


def ack(address: int, text: str) -> list[Reply]:
    return reply(f"@{address:03d}ACK{text};FF".encode("ascii"))


NO_REPLY: list[Reply] = []
UNIT_TORR: Exchange = (b"@253U?;FF", reply(b"@253ACKTORR;FF"))


class Driver:
    """A driver on a scripted transport, with the waits it asked for recorded instead of slept."""

    def __init__(self, script: Sequence[Exchange], address: int = 253) -> None:
        self.transport = ScriptedTransport(script)
        self.sleeps: list[float] = []
        self.mks = Mks937b(self.transport, address, retry=RetryPolicy(attempts=2), sleep=self.sleeps.append)

    def done(self) -> None:
        self.transport.assert_done()


# --- table 5.3, row by row ----------------------------------------------------------------------


def test_row1_pressure_in_pa() -> None:
    d = Driver([UNIT_TORR, (b"@253PR1?;FF", reply(b"@253ACK1.10E-9;FF"))])
    reading = d.mks.read(1)
    assert reading.channel == 1
    assert reading.state is GaugeState.OK
    assert reading.pressure_pa == pytest.approx(1.10e-9 * TORR_PA, rel=1e-12)
    d.done()


def test_manual_example_at_address_3() -> None:
    d = Driver(
        [(b"@003U?;FF", reply(b"@003ACKTORR;FF")), (b"@003PR1?;FF", reply(b"@003ACK7.602E+2;FF"))],
        address=3,
    )
    assert d.mks.read(1).pressure_pa == pytest.approx(760.2 * TORR_PA, rel=1e-12)
    d.done()


def test_row2_all_channels() -> None:
    d = Driver(
        [UNIT_TORR, (b"@253PRZ?;FF", reply(b"@253ACK1.10E-9 7.60E+2 2.50E-7 1.00E-3 3.30E-8 4.00E-2;FF"))]
    )
    readings = d.mks.read_all()
    assert [r.channel for r in readings] == [1, 2, 3, 4, 5, 6]
    assert all(r.state is GaugeState.OK for r in readings)
    expected = [1.10e-9, 7.60e2, 2.50e-7, 1.00e-3, 3.30e-8, 4.00e-2]
    assert [r.pressure_pa for r in readings] == pytest.approx([v * TORR_PA for v in expected], rel=1e-12)
    d.done()


def test_row2_mixed_states_and_fewer_channels() -> None:
    d = Driver(
        [
            UNIT_TORR,
            (b"@253PRZ?;FF", reply(b"@253ACK1.10E-9 LO<E-11 ATM OFF MISCONN PROT_OFF;FF")),
            UNIT_TORR,
            (b"@253PRZ?;FF", reply(b"@253ACK7.60E+2 1.33E-7;FF")),
        ]
    )
    states = [r.state for r in d.mks.read_all()]
    assert states == [
        GaugeState.OK,
        GaugeState.UNDERRANGE,
        GaugeState.OVERRANGE,
        GaugeState.SENSOR_OFF,
        GaugeState.NO_SENSOR,
        GaugeState.SENSOR_ERROR,
    ]
    assert [r.channel for r in d.mks.read_all()] == [1, 2]  # a bench with two channels
    d.done()


def test_row2_comma_separator_accepted() -> None:
    # The separator is unverified on hardware: a comma (with or without spaces) reads the same.
    d = Driver([UNIT_TORR, (b"@253PRZ?;FF", reply(b"@253ACK1.10E-9, 7.60E+2,ATM;FF"))])
    assert [r.state for r in d.mks.read_all()] == [GaugeState.OK, GaugeState.OK, GaugeState.OVERRANGE]
    d.done()


@pytest.mark.parametrize("values", [b"", b"1E-9 1E-9 1E-9 1E-9 1E-9 1E-9 1E-9"])
def test_row2_wrong_number_of_values_is_a_protocol_error(values: bytes) -> None:
    prz = (b"@253PRZ?;FF", reply(b"@253ACK" + values + b";FF"))
    d = Driver([UNIT_TORR, prz, UNIT_TORR, prz])
    with pytest.raises(ProtocolError, match="PRZ"):
        d.mks.read_all()
    d.done()


def test_row3_unit() -> None:
    d = Driver([UNIT_TORR])
    assert d.mks.unit() is PressureUnit.TORR
    d.done()


@pytest.mark.parametrize(
    ("wire", "unit", "pa"),
    [
        (b"TORR", PressureUnit.TORR, TORR_PA),
        (b"mBAR", PressureUnit.MBAR, 100.0),
        (b"PASCAL", PressureUnit.PASCAL, 1.0),
        (b"MICRON", PressureUnit.MICRON, TORR_PA / 1000.0),
    ],
)
def test_every_unit_reads_in_pa(wire: bytes, unit: PressureUnit, pa: float) -> None:
    d = Driver(
        [
            (b"@253U?;FF", reply(b"@253ACK" + wire + b";FF")),
            (b"@253U?;FF", reply(b"@253ACK" + wire + b";FF")),
            (b"@253PR4?;FF", reply(b"@253ACK2.50E+1;FF")),
        ]
    )
    assert d.mks.unit() is unit
    assert d.mks.read(4).pressure_pa == pytest.approx(25.0 * pa, rel=1e-12)
    d.done()


def test_unknown_unit_is_a_protocol_error_never_a_scale() -> None:
    bad = (b"@253U?;FF", reply(b"@253ACKBAR;FF"))
    d = Driver([bad, bad])
    with pytest.raises(ProtocolError, match="U\\? answered 'BAR'"):
        d.mks.read(1)
    d.done()


def test_row4_set_unit_confirmed_by_echo() -> None:
    d = Driver(
        [
            (b"@253U!mBAR;FF", reply(b"@253ACKmBAR;FF")),
            (b"@253U!PASCAL;FF", reply(b"@253ACKPASCAL;FF")),
            (b"@253U!MICRON;FF", reply(b"@253ACKMICRON;FF")),
            (b"@253U!TORR;FF", reply(b"@253ACKTORR;FF")),
        ]
    )
    d.mks.set_unit("mBAR")
    d.mks.set_unit(PressureUnit.PASCAL)
    d.mks.set_unit("micron")
    d.mks.set_unit("Torr")
    d.done()


def test_set_unit_echo_of_another_unit_is_not_confirmed() -> None:
    d = Driver([(b"@253U!mBAR;FF", reply(b"@253ACKTORR;FF"))])
    with pytest.raises(ActuationNotConfirmedError, match="mBAR"):
        d.mks.set_unit(PressureUnit.MBAR)
    d.done()


def test_set_unit_refused_and_unknown_unit() -> None:
    d = Driver([(b"@253U!mBAR;FF", reply(b"@253NAK180;FF"))])
    with pytest.raises(InstrumentError, match="not in setup mode") as caught:
        d.mks.set_unit("mbar")
    assert caught.value.code == 180
    with pytest.raises(ValueError, match="BAR"):
        d.mks.set_unit("BAR")  # refused before anything is sent
    d.done()


def test_set_unit_lost_echo_is_sent_again() -> None:
    # Setting a unit is idempotent: a lost echo is retried like a query.
    d = Driver([(b"@253U!mBAR;FF", NO_REPLY), (b"@253U!mBAR;FF", reply(b"@253ACKmBAR;FF"))])
    d.mks.set_unit("mBAR")
    assert d.mks.stats.retries == 1
    d.done()


def test_row5_channel_power_query() -> None:
    d = Driver([(b"@253CP1?;FF", reply(b"@253ACKON;FF")), (b"@253CP2?;FF", reply(b"@253ACKOFF;FF"))])
    assert d.mks.channel_power(1) is True
    assert d.mks.channel_power(2) is False
    d.done()


def test_row5_channel_power_on_confirmed_by_readback() -> None:
    d = Driver([(b"@253CP1!ON;FF", reply(b"@253ACKON;FF")), (b"@253CP1?;FF", reply(b"@253ACKON;FF"))])
    d.mks.set_channel_power(1, True)
    d.done()


def test_channel_power_off_confirmed_by_readback() -> None:
    d = Driver([(b"@253CP3!OFF;FF", reply(b"@253ACKOFF;FF")), (b"@253CP3?;FF", reply(b"@253ACKOFF;FF"))])
    d.mks.set_channel_power(3, False)
    d.done()


def test_channel_power_readback_disagrees() -> None:
    d = Driver([(b"@253CP1!OFF;FF", reply(b"@253ACKOFF;FF")), (b"@253CP1?;FF", reply(b"@253ACKON;FF"))])
    with pytest.raises(ActuationNotConfirmedError, match="channel 1 power OFF"):
        d.mks.set_channel_power(1, False)
    d.done()


def test_channel_power_refused_is_not_read_back() -> None:
    d = Driver([(b"@253CP2!OFF;FF", reply(b"@253NAK169;FF"))])
    with pytest.raises(InstrumentError, match="invalid argument") as caught:
        d.mks.set_channel_power(2, False)
    assert caught.value.code == 169
    d.done()


@pytest.mark.parametrize("lost", [NO_REPLY, [b"#$%&*?", b"FF"]], ids=["timeout", "garbled"])
def test_channel_power_lost_ack_is_never_resent(lost: list[Reply]) -> None:
    # The command goes out once; the readback, after discarding any late reply, decides.
    d = Driver([(b"@253CP2!OFF;FF", lost), (b"@253CP2?;FF", reply(b"@253ACKOFF;FF"))])
    d.mks.set_channel_power(2, False)
    assert d.transport.written.count(b"@253CP2!OFF;FF") == 1
    assert d.transport.discards == 1
    d.done()


def test_row6_ion_gauge_good() -> None:
    d = Driver([(b"@253T1?;FF", reply(b"@253ACKG;FF"))])
    assert d.mks.ion_gauge_status(1) is IonGaugeStatus.GOOD
    d.done()


@pytest.mark.parametrize("status", list(IonGaugeStatus))
def test_row6_every_ion_gauge_letter(status: IonGaugeStatus) -> None:
    d = Driver([(b"@253T5?;FF", ack(253, status.value))])
    assert d.mks.ion_gauge_status(5) is status
    d.done()


def test_row6_unknown_letter_is_a_protocol_error() -> None:
    query = (b"@253T1?;FF", reply(b"@253ACKX;FF"))
    d = Driver([query, query])
    with pytest.raises(ProtocolError, match="T1"):
        d.mks.ion_gauge_status(1)
    d.done()


def test_row7_not_an_ion_gauge_is_not_retried() -> None:
    d = Driver([(b"@253T2?;FF", reply(b"@253NAK152;FF"))])
    with pytest.raises(InstrumentError, match="NAK152 \\(not an ion gauge channel\\)") as caught:
        d.mks.ion_gauge_status(2)
    assert caught.value.code == 152
    assert d.mks.stats.retries == 0
    d.done()


def test_row8_unknown_command() -> None:
    d = Driver([(b"@253XYZ?;FF", reply(b"@253NAK160;FF"))])
    with pytest.raises(InstrumentError, match="NAK160 \\(unrecognized message\\)") as caught:
        d.mks.ask("XYZ?")
    assert caught.value.code == 160
    d.done()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (8, "zero adjustment at too high a pressure"),
        (9, "atmosphere adjustment at too low a pressure"),
        (160, "unrecognized message"),
        (169, "invalid argument"),
        (172, "value out of range"),
        (175, "command or query character invalid"),
        (180, "not in setup mode"),
        (999, "code not documented"),
    ],
)
def test_nak_codes_named(code: int, words: str) -> None:
    d = Driver([(b"@253PC1?;FF", reply(f"@253NAK{code};FF".encode()))])
    with pytest.raises(InstrumentError) as caught:
        d.mks.ask("PC1?")
    assert caught.value.code == code
    assert f"NAK{code} ({words}" in str(caught.value)
    d.done()


def test_nak_without_numeric_code_is_a_protocol_error() -> None:
    query = (b"@253SN?;FF", reply(b"@253NAKXY;FF"))
    d = Driver([query, query])
    with pytest.raises(ProtocolError, match="numeric code"):
        d.mks.identity()
    d.done()


def test_row9_setpoint_relay() -> None:
    d = Driver(
        [
            UNIT_TORR,
            (b"@253SP1?;FF", reply(b"@253ACK2.00E+0;FF")),
            (b"@253SH1?;FF", reply(b"@253ACK2.20E+0;FF")),
            (b"@253SD1?;FF", reply(b"@253ACKABOVE;FF")),
            (b"@253EN1?;FF", reply(b"@253ACKENABLE;FF")),
            (b"@253SS1?;FF", reply(b"@253ACKCLEAR;FF")),
            (b"@253SS12?;FF", reply(b"@253ACKSET;FF")),
        ]
    )
    setpoint = d.mks.setpoint(1)
    assert isinstance(setpoint, RelaySetpoint)
    assert (setpoint.relay, setpoint.direction, setpoint.enable) == (
        1,
        SetpointDirection.ABOVE,
        RelayEnable.ENABLE,
    )
    assert setpoint.setpoint_pa == pytest.approx(2.0 * TORR_PA, rel=1e-12)
    assert setpoint.hysteresis_pa == pytest.approx(2.2 * TORR_PA, rel=1e-12)
    assert d.mks.relay_set(1) is False
    assert d.mks.relay_set(12) is True
    d.done()


def test_row9_garbled_setpoint_fields() -> None:
    script: list[Exchange] = []
    for _ in range(2):
        script += [
            UNIT_TORR,
            (b"@253SP1?;FF", reply(b"@253ACK2.00E+0;FF")),
            (b"@253SH1?;FF", reply(b"@253ACKATM;FF")),
        ]
    for _ in range(2):
        script += [
            UNIT_TORR,
            (b"@253SP1?;FF", reply(b"@253ACK2.00E+0;FF")),
            (b"@253SH1?;FF", reply(b"@253ACK2.20E+0;FF")),
            (b"@253SD1?;FF", reply(b"@253ACKSIDEWAYS;FF")),
        ]
    script += [(b"@253SS1?;FF", reply(b"@253ACKMAYBE;FF"))] * 2
    d = Driver(script)
    with pytest.raises(ProtocolError, match="SH1"):
        d.mks.setpoint(1)
    with pytest.raises(ProtocolError, match="SD1"):
        d.mks.setpoint(1)
    with pytest.raises(ProtocolError, match="SS1"):
        d.mks.relay_set(1)
    d.done()


def test_row10_other_address_gets_no_reply_retried_once_then_timeout() -> None:
    d = Driver([(b"@252U?;FF", NO_REPLY), (b"@252U?;FF", NO_REPLY)], address=252)
    with pytest.raises(InstrumentTimeoutError):
        d.mks.read(1)
    assert d.mks.stats.retries == 1
    assert d.transport.reconnects == 1
    assert d.sleeps == pytest.approx(RetryPolicy(attempts=2).delays(), abs=0.005)
    d.done()


# --- framing, retries and resynchronisation -----------------------------------------------------


def test_reply_from_another_address_is_retried_then_raised() -> None:
    query = (b"@253SN?;FF", reply(b"@252ACK1234567;FF"))
    d = Driver([query, query])
    with pytest.raises(ProtocolError, match="address 252"):
        d.mks.identity()
    assert d.mks.stats.retries == 1
    assert d.transport.discards == 1
    d.done()


@pytest.mark.parametrize(
    "frame",
    [
        [b"#$%&*?!~^_|", b"FF"],  # the simulator's garbled alphabet
        [b"@253ACK1.10E-9", b"XX"],  # wrong tail after ';'
        [b"253ACK1.10E-9", b"FF"],  # no '@'
        [b"@25ACK1.10E-9", b"FF"],  # short address
        [b"@253OK1.10E-9", b"FF"],  # neither ACK nor NAK
        [b"xx@253ACK1.10E-9", b"FF"],  # noise before the frame
        [b"@253ACK1.10E-9\xff", b"FF"],  # not ASCII
    ],
)
def test_garbled_frames_are_retried_then_raised(frame: list[Reply]) -> None:
    query = (b"@253PR1?;FF", frame)
    d = Driver([UNIT_TORR, query, UNIT_TORR, query])
    with pytest.raises(ProtocolError):
        d.mks.read(1)
    assert d.mks.stats.retries == 1
    assert d.transport.reconnects == 0  # garbled bytes need a resync, not a new connection
    assert d.transport.discards == 1
    d.done()


def test_garbled_once_then_good() -> None:
    d = Driver(
        [
            UNIT_TORR,
            (b"@253PR1?;FF", [b"^||^^$&$##$", b"FF"]),
            UNIT_TORR,
            (b"@253PR1?;FF", reply(b"@253ACK7.60E+2;FF")),
        ]
    )
    assert d.mks.read(1).pressure_pa == pytest.approx(101325.0)
    assert d.mks.stats.retries == 1
    d.done()


def test_timeout_retried_once_then_good() -> None:
    d = Driver([(b"@253SN?;FF", NO_REPLY), (b"@253SN?;FF", reply(b"@253ACK0000000;FF"))])
    assert d.mks.identity() == "MKS937B,0000000"
    assert (d.mks.stats.retries, d.mks.stats.reconnects) == (1, 1)
    d.done()


def test_timeout_retried_once_then_raised() -> None:
    d = Driver([(b"@253CP1?;FF", NO_REPLY), (b"@253CP1?;FF", NO_REPLY)])
    with pytest.raises(InstrumentTimeoutError):
        d.mks.channel_power(1)
    assert (d.mks.stats.retries, d.mks.stats.reconnects) == (1, 1)
    d.done()


def test_disconnect_reconnects_and_retries() -> None:
    d = Driver(
        [(b"@253U?;FF", [InstrumentDisconnectedError("reset by peer")]), UNIT_TORR],
    )
    assert d.mks.unit() is PressureUnit.TORR
    assert d.transport.reconnects == 1
    d.done()


def test_timeout_on_the_ff_tail_is_retried() -> None:
    d = Driver([(b"@253U?;FF", [b"@253ACKTORR"]), UNIT_TORR])
    assert d.mks.unit() is PressureUnit.TORR
    d.done()


def test_a_failed_call_leaves_the_next_one_to_discard_stale_input() -> None:
    # The last attempt's reply may still arrive: the next command must not take it for its own.
    d = Driver([(b"@253U?;FF", NO_REPLY), (b"@253U?;FF", NO_REPLY), UNIT_TORR, UNIT_TORR])
    with pytest.raises(InstrumentTimeoutError):
        d.mks.unit()
    discards = d.transport.discards
    assert d.mks.unit() is PressureUnit.TORR
    assert d.transport.discards == discards + 1
    assert d.mks.unit() is PressureUnit.TORR
    assert d.transport.discards == discards + 1  # only once
    d.done()


def test_resync_discards_input() -> None:
    d = Driver([])
    d.mks.resync()
    assert d.transport.discards == 1


# --- non-numeric readings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "state", "pa"),
    [
        ("LO<E-11", GaugeState.UNDERRANGE, 1e-11 * TORR_PA),
        ("LO<1.0E-4", GaugeState.UNDERRANGE, 1e-4 * TORR_PA),
        ("ATM", GaugeState.OVERRANGE, None),
        ("OFF", GaugeState.SENSOR_OFF, None),
        ("MISCONN", GaugeState.NO_SENSOR, None),
        ("PROT_OFF", GaugeState.SENSOR_ERROR, None),
        ("7.602E+2", GaugeState.OK, 760.2 * TORR_PA),
        ("-1.20E-3", GaugeState.OK, -1.2e-3 * TORR_PA),  # a capacitance manometer below its zero
        ("760", GaugeState.OK, 760 * TORR_PA),
    ],
)
def test_readings(text: str, state: GaugeState, pa: float | None) -> None:
    d = Driver([UNIT_TORR, (b"@253PR2?;FF", ack(253, text))])
    reading = d.mks.read(2)
    assert reading.state is state
    assert reading.ok is (state is GaugeState.OK)
    if pa is None:
        assert reading.pressure_pa is None
    else:
        assert reading.pressure_pa == pytest.approx(pa, rel=1e-12)
    d.done()


@pytest.mark.parametrize(
    "text", ["", "WAIT", "nan", "inf", "1.0E999", "1,5", "0x10", "LO<", "HI>E+3", "1.10E-9X"]
)
def test_unknown_reading_text_is_a_protocol_error_never_a_number(text: str) -> None:
    query = (b"@253PR1?;FF", ack(253, text))
    d = Driver([UNIT_TORR, query, UNIT_TORR, query])
    with pytest.raises(ProtocolError, match="neither a number nor a state"):
        d.mks.read(1)
    d.done()


# --- identity, arguments ------------------------------------------------------------------------


def test_identity_and_counts() -> None:
    d = Driver([(b"@253SN?;FF", reply(b"@253ACK1410123456;FF"))])
    assert d.mks.identity() == "MKS937B,1410123456"
    assert d.mks.model == "MKS937B"
    assert (d.mks.channel_count, d.mks.relay_count) == (6, 12)
    d.done()


def test_empty_serial_number_is_a_protocol_error() -> None:
    query = (b"@253SN?;FF", reply(b"@253ACK;FF"))
    d = Driver([query, query])
    with pytest.raises(ProtocolError, match="serial"):
        d.mks.serial_number()
    d.done()


@pytest.mark.parametrize("channel", [0, 7, -1, True])
def test_channel_out_of_range_sends_nothing(channel: int) -> None:
    d = Driver([])
    for call in (d.mks.read, d.mks.channel_power, d.mks.ion_gauge_status):
        with pytest.raises(ValueError, match="channel must be 1 to 6"):
            call(channel)
    with pytest.raises(ValueError, match="channel must be 1 to 6"):
        d.mks.set_channel_power(channel, True)
    assert d.transport.written == []


@pytest.mark.parametrize("relay", [0, 13])
def test_relay_out_of_range_sends_nothing(relay: int) -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="relay must be 1 to 12"):
        d.mks.setpoint(relay)
    with pytest.raises(ValueError, match="relay must be 1 to 12"):
        d.mks.relay_set(relay)
    assert d.transport.written == []


@pytest.mark.parametrize("command", ["CP1!OFF", "PR1", "PR1?;FF@253CP1!OFF?", "PR1?@252", "PRé?", "?"])
def test_ask_refuses_anything_but_a_query(command: str) -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="not a 937B query"):
        d.mks.ask(command)
    assert d.transport.written == []


def test_ask_returns_the_ack_text() -> None:
    d = Driver([(b"@253PC1?;FF", reply(b"@253ACK1.10E-9;FF"))])
    assert d.mks.ask("PC1?") == "1.10E-9"
    d.done()


@pytest.mark.parametrize("address", [0, 255])
def test_address_validated(address: int) -> None:
    with pytest.raises(ValueError, match="1 to 254"):
        Mks937b(ScriptedTransport([]), address)


def test_close_and_context_manager() -> None:
    transport = ScriptedTransport([])
    with Mks937b(transport) as mks:
        assert mks.address == 253
    assert transport.closed
