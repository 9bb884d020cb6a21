"""Byte-exact unit tests of the Edwards TIC driver with a scripted transport.

The exchanges, copied here because tests never read the shared spec (protocols.md §1.4, Edwards
D397-30-880), every message and reply ending ``<CR>``:

    ?V913          -> =V913 5.0691e+01;59;11;0;0   (value;units type;state;alert;priority; 59 Pa, 11 on)
    ?S902          -> =S902 TIC200;D39700640S;150326362<NUL>;5.0   (a published capture)
    ?S929          -> =S929 2                      (1 kPa, 2 mbar, 3 Torr)
    !S929 3        -> *S929 0                      (0 accepted; 1-9 the error codes)
    ?S913 5        -> =S913 5;25                   (config 5: gauge type, 25 ASG)
    !C913 0 / 1    -> *C913 0                      (gauge off / on)
    ?V999          -> *V999 2                      (a refused query)
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from drivers.base import RetryPolicy
from drivers.edwards_tic import EdwardsTic, GaugeValue, TicGaugeState, TicUnit
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.readings import GaugeState
from drivers.tpg36x import UnconvertibleUnitError
from tests.drivers.scripted import Reply, ScriptedTransport

Exchange = tuple[bytes, Sequence[Reply]]
NO_REPLY: list[Reply] = []
# What the transport hands over: the line without its <CR>.
GARBLED: list[Reply] = [b"#$%&*?!~^_|"]


def ex(message: str, *replies: str) -> Exchange:
    return (message.encode("ascii") + b"\r", [r.encode("latin-1") for r in replies])


def gauge(obj: int, data: str) -> Exchange:
    return ex(f"?V{obj}", f"=V{obj} {data}")


class Driver:
    """A driver on a scripted transport, the waits it asked for recorded instead of slept."""

    def __init__(self, script: Sequence[Exchange]) -> None:
        self.transport = ScriptedTransport(script)
        self.sleeps: list[float] = []
        self.tic = EdwardsTic(self.transport, retry=RetryPolicy(attempts=2), sleep=self.sleeps.append)

    def done(self) -> None:
        self.transport.assert_done()


# --- readings -----------------------------------------------------------------------------------


def test_published_capture_reads_in_pa() -> None:
    d = Driver([gauge(913, "5.0691e+01;59;11;0;0")])
    reading = d.tic.read(1)
    assert (reading.channel, reading.state) == (1, GaugeState.OK)
    assert reading.pressure_pa == pytest.approx(50.691, rel=1e-12)
    d.done()


def test_read_all_asks_each_gauge_in_one_transaction() -> None:
    d = Driver(
        [
            gauge(913, "1.0132e+05;59;11;0;0"),
            gauge(914, "9.9000e+09;59;5;0;0"),
            gauge(915, "9.9000e+09;59;0;6;1"),
        ]
    )
    readings = d.tic.read_all()
    assert [(r.channel, r.state, r.pressure_pa) for r in readings] == [
        (1, GaugeState.OK, pytest.approx(101320.0)),
        (2, GaugeState.SENSOR_OFF, None),
        (3, GaugeState.NO_SENSOR, None),
    ]
    d.done()


@pytest.mark.parametrize(
    ("data", "state", "pressure_pa"),
    [
        ("1.0000e-02;59;11;11;1", GaugeState.UNDERRANGE, 1.0e-2),
        ("1.0000e-02;59;11;4;1", GaugeState.UNDERRANGE, 1.0e-2),
        ("2.0000e+05;59;11;10;1", GaugeState.OVERRANGE, 2.0e5),
        ("2.0000e+05;59;11;12;2", GaugeState.OVERRANGE, 2.0e5),
        ("2.0000e+05;59;11;3;1", GaugeState.OVERRANGE, 2.0e5),
        ("5.0000e+01;59;11;27;1", GaugeState.OK, 50.0),  # run hours high: a warning, the value stands
        ("5.0000e+01;59;8;0;0", GaugeState.OK, 50.0),  # calibrating: still measuring
        ("-1.2000e-01;59;11;0;0", GaugeState.OK, -0.12),  # a diaphragm gauge below its zero
        ("5.0000e+01;59;11;1;2", GaugeState.SENSOR_ERROR, None),  # an alarm: the TIC distrusts it
        ("9.9000e+09;59;11;0;0", GaugeState.SENSOR_ERROR, None),  # on, but the placeholder
        ("9.9000e+09;59;4;1;2", GaugeState.SENSOR_ERROR, None),
        ("9.9000e+09;59;5;0;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;1;0;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;6;0;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;7;21;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;9;0;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;10;0;0", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;12;34;1", GaugeState.SENSOR_OFF, None),
        ("9.9000e+09;59;0;6;1", GaugeState.NO_SENSOR, None),
        ("9.9000e+09;59;2;9;1", GaugeState.IDENTIFICATION_ERROR, None),
        ("9.9000e+09;59;3;0;0", GaugeState.IDENTIFICATION_ERROR, None),
    ],
)
def test_every_gauge_state(data: str, state: GaugeState, pressure_pa: float | None) -> None:
    d = Driver([gauge(914, data)])
    reading = d.tic.read(2)
    assert reading.state is state
    assert reading.pressure_pa == (None if pressure_pa is None else pytest.approx(pressure_pa, rel=1e-12))
    d.done()


def test_raw_gauge_fields() -> None:
    d = Driver([gauge(915, "5.0691e+01;59;11;27;1")])
    assert d.tic.gauge(3) == GaugeValue(50.691, 59, TicGaugeState.ON, 27, 1)
    d.done()


@pytest.mark.parametrize("units", ["66", "81"])
def test_volts_or_percent_are_no_pressure(units: str) -> None:
    d = Driver([gauge(913, f"5.0000e+00;{units};11;0;0")])
    with pytest.raises(UnconvertibleUnitError, match=f"units type {units}"):
        d.tic.read(1)
    d.done()


def test_volts_of_a_gauge_that_is_off_read_as_off() -> None:
    d = Driver([gauge(913, "0.0000e+00;66;5;0;0")])
    assert d.tic.read(1).state is GaugeState.SENSOR_OFF
    d.done()


@pytest.mark.parametrize(
    "data",
    [
        "5.0691e+01;59;11;0",  # a field short
        "5.0691e+01;59;11;0;0;0",
        "5.0691x+01;59;11;0;0",
        "nan;59;11;0;0",
        "inf;59;11;0;0",
        "1e999;59;11;0;0",
        "5.0691e+01;60;11;0;0",  # no such units type
        "5.0691e+01;59;13;0;0",  # no such state
        "5.0691e+01;59;11;-1;0",
        "",
    ],
)
def test_unknown_gauge_reply_is_a_protocol_error_never_a_number(data: str) -> None:
    d = Driver([gauge(913, data), gauge(913, data)])
    with pytest.raises(ProtocolError, match="gauge 1"):
        d.tic.read(1)
    assert d.tic.stats.retries == 1
    d.done()


@pytest.mark.parametrize("channel", [0, 4, -1, True])
def test_channel_out_of_range_sends_nothing(channel: int) -> None:
    d = Driver([])
    for call in (d.tic.read, d.tic.gauge, d.tic.gauge_type):
        with pytest.raises(ValueError, match="1 to 3"):
            call(channel)
    with pytest.raises(ValueError, match="1 to 3"):
        d.tic.set_gauge_on(channel, True)
    d.done()


# --- identity, unit, gauge types ----------------------------------------------------------------


def test_identity_of_the_published_capture_drops_its_nul() -> None:
    d = Driver([ex("?S902", "=S902 TIC200;D39700640S;150326362\x00;5.0")])
    assert d.tic.identity() == "TIC200,D39700640S,150326362,5.0"
    assert d.tic.channel_count == 3
    d.done()


@pytest.mark.parametrize("data", ["TIC", "TIC;;1;5.0", "TIC;D39700640S;\x7f;5.0"])
def test_short_or_empty_identity_is_a_protocol_error(data: str) -> None:
    d = Driver([ex("?S902", f"=S902 {data}"), ex("?S902", f"=S902 {data}")])
    with pytest.raises(ProtocolError):
        d.tic.identity()
    d.done()


@pytest.mark.parametrize("unit", list(TicUnit))
def test_display_unit(unit: TicUnit) -> None:
    d = Driver([ex("?S929", f"=S929 {int(unit)}")])
    assert d.tic.unit() is unit
    d.done()


@pytest.mark.parametrize("data", ["0", "4", "mbar", ""])
def test_unknown_display_unit_is_a_protocol_error(data: str) -> None:
    d = Driver([ex("?S929", f"=S929 {data}"), ex("?S929", f"=S929 {data}")])
    with pytest.raises(ProtocolError, match="display unit"):
        d.tic.unit()
    d.done()


def test_set_unit_confirmed_by_readback() -> None:
    d = Driver([ex("!S929 3", "*S929 0"), ex("?S929", "=S929 3")])
    d.tic.set_unit(TicUnit.TORR)
    d.done()


def test_set_unit_readback_disagrees() -> None:
    d = Driver([ex("!S929 1", "*S929 0"), ex("?S929", "=S929 2")])
    with pytest.raises(ActuationNotConfirmedError, match="display unit KPA"):
        d.tic.set_unit(1)
    d.done()


def test_set_unit_refused_is_not_read_back() -> None:
    d = Driver([ex("!S929 2", "*S929 4")])
    with pytest.raises(InstrumentError, match="error 4 \\(parameter out of range\\)") as caught:
        d.tic.set_unit(TicUnit.MBAR)
    assert caught.value.code == 4
    d.done()


@pytest.mark.parametrize("lost", [NO_REPLY, GARBLED], ids=["timeout", "garbled"])
def test_set_unit_lost_status_is_never_resent(lost: list[Reply]) -> None:
    # Sent once; its late status is discarded, and the readback decides.
    d = Driver([(b"!S929 3\r", lost), ex("?S929", "=S929 3")])
    d.tic.set_unit(TicUnit.TORR)
    assert d.transport.written.count(b"!S929 3\r") == 1
    assert d.transport.discards == 1
    d.done()


def test_gauge_types() -> None:
    d = Driver([ex("?S913 5", "=S913 5;25"), ex("?S914 5", "=S914 5;15"), ex("?S915 5", "=S915 5;1")])
    assert d.tic.gauge_ids() == ["ASG", "WRG", "No Device"]
    d.done()


def test_gauge_type_unknown_code_and_bad_reply() -> None:
    d = Driver([ex("?S914 5", "=S914 5;99"), ex("?S913 5", "=S913 7;0;0"), ex("?S913 5", "=S913 7;0;0")])
    assert d.tic.gauge_type(2) == "type 99"
    with pytest.raises(ProtocolError, match="gauge 1 type"):
        d.tic.gauge_type(1)
    d.done()


# --- gauges on and off --------------------------------------------------------------------------


def test_gauge_off_confirmed_by_its_state() -> None:
    d = Driver([ex("!C914 0", "*C914 0"), gauge(914, "9.9000e+09;59;5;0;0")])
    d.tic.set_gauge_on(2, False)
    d.done()


@pytest.mark.parametrize("state", ["11", "6", "7"])
def test_gauge_on_confirmed_while_it_strikes(state: str) -> None:
    d = Driver([ex("!C913 1", "*C913 0"), gauge(913, f"9.9000e+09;59;{state};0;0")])
    d.tic.set_gauge_on(1, True)
    d.done()


def test_gauge_on_not_confirmed_while_off() -> None:
    d = Driver([ex("!C913 1", "*C913 0"), gauge(913, "9.9000e+09;59;5;0;0")])
    with pytest.raises(ActuationNotConfirmedError, match="gauge 1 on"):
        d.tic.set_gauge_on(1, True)
    d.done()


def test_gauge_that_cannot_be_switched_is_refused() -> None:
    d = Driver([ex("!C913 0", "*C913 5")])
    with pytest.raises(InstrumentError, match="invalid command in current state") as caught:
        d.tic.set_gauge_on(1, False)
    assert caught.value.code == 5
    d.done()


@pytest.mark.parametrize("lost", [NO_REPLY, GARBLED], ids=["timeout", "garbled"])
def test_gauge_command_lost_status_is_never_resent(lost: list[Reply]) -> None:
    d = Driver([(b"!C915 0\r", lost), gauge(915, "9.9000e+09;59;5;0;0")])
    d.tic.set_gauge_on(3, False)
    assert d.transport.written.count(b"!C915 0\r") == 1
    d.done()


# --- error codes, framing, retries --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (1, "invalid command for object ID"),
        (2, "invalid query/command"),
        (3, "missing parameter"),
        (4, "parameter out of range"),
        (5, "invalid command in current state"),
        (6, "data checksum error"),
        (7, "EEPROM read or write error"),
        (8, "operation took too long"),
        (9, "invalid config ID"),
        (42, "code not documented"),
    ],
)
def test_error_codes_named_and_not_retried(code: int, words: str) -> None:
    d = Driver([ex("?V904", f"*V904 {code}")])
    with pytest.raises(InstrumentError) as caught:
        d.tic.ask("?V904")
    assert caught.value.code == code
    assert f"error {code} ({words})" in str(caught.value)
    assert d.tic.stats.retries == 0
    d.done()


def test_ask_returns_the_data() -> None:
    d = Driver([ex("?V940", "=V940 1;1.0132e+05;2;5.0691e+01"), ex("?S913 7", "=S913 7;0;0")])
    assert d.tic.ask("?V940") == "1;1.0132e+05;2;5.0691e+01"
    assert d.tic.ask("?S913 7") == "7;0;0"
    d.done()


@pytest.mark.parametrize("message", ["!C913 1", "!S929 2", "?V913\r", "?X913", "?V", "V913", "?V913;?V914"])
def test_ask_refuses_anything_but_a_query(message: str) -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="not a TIC query"):
        d.tic.ask(message)
    d.done()


@pytest.mark.parametrize(
    "line",
    [
        "=V914 5.0691e+01;59;11;0;0",  # another gauge's reply: out of step
        "=S913 5.0691e+01;59;11;0;0",  # a setup where a value was asked
        "*C913 0",  # a command's status
        "*V913 0",  # accepted, but no data
        "*V913 x",
        "V913 5.0691e+01;59;11;0;0",
        "=V913",
        "=V913 5.0691e+01;59;11;0;0\n",
    ],
)
def test_reply_out_of_step_or_malformed_is_retried_then_raised(line: str) -> None:
    d = Driver([ex("?V913", line), ex("?V913", line)])
    with pytest.raises(ProtocolError, match="reply to '\\?V913'"):
        d.tic.read(1)
    assert d.tic.stats.retries == 1
    assert d.transport.reconnects == 0  # garbled bytes need a resync, not a new connection
    assert d.transport.discards == 1
    d.done()


def test_data_reply_to_a_command_is_a_protocol_error() -> None:
    d = Driver([ex("!S929 2", "=S929 2"), ex("?S929", "=S929 2")])
    d.tic.set_unit(TicUnit.MBAR)  # the readback confirms it
    assert d.transport.discards == 1
    d.done()


def test_garbled_once_then_good() -> None:
    d = Driver([(b"?V913\r", GARBLED), gauge(913, "5.0691e+01;59;11;0;0")])
    assert d.tic.read(1).pressure_pa == pytest.approx(50.691)
    assert d.tic.stats.retries == 1
    assert d.sleeps == [pytest.approx(0.05, abs=0.05)]
    d.done()


def test_timeout_retried_once_with_a_reconnect_then_good() -> None:
    d = Driver([(b"?V913\r", NO_REPLY), gauge(913, "5.0691e+01;59;11;0;0")])
    assert d.tic.read(1).ok
    assert (d.tic.stats.retries, d.tic.stats.reconnects) == (1, 1)
    d.done()


def test_timeout_retried_once_then_raised() -> None:
    d = Driver([(b"?V913\r", NO_REPLY), (b"?V913\r", NO_REPLY)])
    with pytest.raises(InstrumentTimeoutError):
        d.tic.read(1)
    assert (d.tic.stats.retries, d.tic.stats.reconnects) == (1, 1)
    d.done()


def test_disconnect_reconnects_and_retries() -> None:
    lost: list[Reply] = [InstrumentDisconnectedError("peer closed")]
    d = Driver([(b"?S929\r", lost), ex("?S929", "=S929 2")])
    assert d.tic.unit() is TicUnit.MBAR
    assert d.transport.reconnects == 1
    d.done()


def test_a_failed_call_leaves_the_next_one_to_discard_stale_input() -> None:
    d = Driver([(b"?V913\r", NO_REPLY), (b"?V913\r", NO_REPLY), gauge(914, "5.0691e+01;59;11;0;0")])
    with pytest.raises(InstrumentTimeoutError):
        d.tic.read(1)
    discards = d.transport.discards
    assert d.tic.read(2).ok
    assert d.transport.discards == discards + 1
    d.done()


def test_close_and_context_manager() -> None:
    d = Driver([])
    with d.tic as tic:
        assert tic is d.tic
    assert d.transport.closed
