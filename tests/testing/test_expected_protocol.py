"""``expected_protocol`` and ``ScriptedTransport``: a script passes the driver that follows it, only that."""

from __future__ import annotations

import pytest

from drivers.base import RetryPolicy
from drivers.errors import InstrumentTimeoutError
from drivers.mks937b import Mks937b
from drivers.tpg36x import Tpg36x
from rig.testing import ScriptedTransport, expected_protocol

ACK, ENQ = b"\x06", b"\x05"
# Protocols.md §1.1: PR1 answered <ACK>, <ENQ> answered the status and value; UNI the same way.
READ_1E_3_MBAR = [(b"PR1\r", [ACK]), (ENQ, [b"0,1.0000E-03"]), (b"UNI\r", [ACK]), (ENQ, [b"0"])]


def test_a_driver_following_the_script_passes() -> None:
    with expected_protocol(Tpg36x, READ_1E_3_MBAR, channels=2) as tpg:
        assert tpg.read(1).pressure_pa == pytest.approx(0.1)


def test_a_byte_the_script_does_not_expect_fails_where_it_is_written() -> None:
    script = [(b"PR2\r", [ACK]), (ENQ, [b"0,1.0000E-03"])]
    with (
        pytest.raises(AssertionError, match=r"driver wrote b'PR1\\r', the script expects b'PR2\\r'"),
        expected_protocol(Tpg36x, script, channels=2) as tpg,
    ):
        tpg.read(1)


def test_a_script_not_used_up_fails_at_the_end() -> None:
    with (
        pytest.raises(AssertionError, match="script not finished"),
        expected_protocol(Tpg36x, [*READ_1E_3_MBAR, (b"PR2\r", [ACK])], channels=2) as tpg,
    ):
        tpg.read(1)
    with (
        pytest.raises(AssertionError, match="replies never read"),
        expected_protocol(Tpg36x, [(b"UNI\r", [ACK]), (ENQ, [b"0", b"0"])], channels=2) as tpg,
    ):
        tpg.unit()


def test_an_exception_in_the_script_plays_a_lost_reply_and_the_retry_follows() -> None:
    lost = InstrumentTimeoutError("lost")
    script = [(b"@253SN?;FF", [lost]), (b"@253SN?;FF", [b"@253ACK1234", b"FF"])]
    with expected_protocol(Mks937b, script, retry=RetryPolicy(attempts=2), sleep=lambda s: None) as mks:
        assert mks.serial_number() == "1234"
        assert isinstance(mks.transport, ScriptedTransport)
        assert mks.transport.reconnects == 1  # a timeout on a network resource reconnects


def test_a_read_with_no_reply_due_times_out_like_a_silent_instrument() -> None:
    transport = ScriptedTransport([])
    with pytest.raises(InstrumentTimeoutError):
        transport.read_line()
    with pytest.raises(AssertionError, match="the script is finished"):
        transport.write(b"x")
