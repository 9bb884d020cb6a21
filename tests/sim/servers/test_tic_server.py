"""The simulated Edwards TIC's own protocol rules, through pyvisa-py (TCPIP SOCKET, ASRLsocket) and raw TCP.

The bytes, copied here because tests never read the shared spec (protocols.md §1.4, Edwards
D397-30-880): every message and reply ends ``<CR>``; ``?V913`` → ``=V913 <value>;<units>;<state>;
<alert>;<priority>`` (59 Pa, state 11 on); ``!C<obj> <data>`` / ``!S<obj> <data>`` →
``*C<obj> <code>`` / ``*S<obj> <code>`` (0 accepted); a refused query ``*V<obj> <code>``. The
server's own choices where the spec is silent are in ``rig/sim/servers/tic.py``'s docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tic import TicServer, format_value
from tests.sim.servers.conftest import RESOURCE_KINDS, RawClient, SwitchableFaults, open_instrument

pytestmark = pytest.mark.integration


def tic_gauges() -> StaticGauges:
    """Gauge 1 a capacitance manometer at 1 atm, 2 a switchable WRG at 50.691 Pa, 3 a Pirani at 1.5e-3 Pa."""
    return StaticGauges(
        readings={
            1: GaugeReading(GaugeStatus.OK, 101325.0),
            2: GaugeReading(GaugeStatus.OK, 50.691),
            3: GaugeReading(GaugeStatus.OK, 1.5e-3),
        },
        sensor_ids={1: "CMR", 2: "PKR", 3: "TPR/PCR"},
        switchable_channels={2},
    )


@pytest.fixture
def gauges() -> StaticGauges:
    return tic_gauges()


@pytest.fixture
def tic_server(gauges: StaticGauges, faults: SwitchableFaults) -> Iterator[TicServer]:
    with TicServer(gauges, faults=faults) as server:
        yield server


@pytest.fixture(params=RESOURCE_KINDS)
def tic(request: pytest.FixtureRequest, rm: Any, tic_server: TicServer) -> Iterator[Any]:
    inst = open_instrument(rm, tic_server, request.param, read_termination="\r", write_termination="\r")
    yield inst
    inst.close()


@pytest.fixture
def raw(tic_server: TicServer) -> Iterator[RawClient]:
    client = RawClient.connect(tic_server)
    yield client
    client.close()


def ask(inst: Any, message: str) -> str:
    return str(inst.query(message))


def test_gauge_values_byte_exact(tic: Any) -> None:
    tic.write_raw(b"?V914\r")
    assert tic.read_raw() == b"=V914 5.0691e+01;59;11;0;0\r"
    assert ask(tic, "?V913") == "=V913 1.0132e+05;59;11;0;0"
    assert ask(tic, "?V915") == "=V915 1.5000e-03;59;11;0;0"


@pytest.mark.parametrize(
    ("status", "value_pa", "reply"),
    [
        (GaugeStatus.UNDERRANGE, 1e-2, "=V915 1.0000e-02;59;11;11;1"),
        (GaugeStatus.OVERRANGE, 2e5, "=V915 2.0000e+05;59;11;10;1"),
        (GaugeStatus.SENSOR_ERROR, 0.0, "=V915 9.9000e+09;59;4;1;2"),
        (GaugeStatus.SENSOR_OFF, 0.0, "=V915 9.9000e+09;59;5;0;0"),
        (GaugeStatus.NO_SENSOR, 0.0, "=V915 9.9000e+09;59;0;6;1"),
        (GaugeStatus.IDENTIFICATION_ERROR, 0.0, "=V915 9.9000e+09;59;2;9;1"),
    ],
)
def test_every_status(
    tic: Any, gauges: StaticGauges, status: GaugeStatus, value_pa: float, reply: str
) -> None:
    gauges.readings[3] = GaugeReading(status, value_pa)
    assert ask(tic, "?V915") == reply


def test_value_format() -> None:
    assert [format_value(v) for v in (50.691, 101325.0, 9.9e9, -0.12, 0.0)] == [
        "5.0691e+01",
        "1.0132e+05",
        "9.9000e+09",
        "-1.2000e-01",
        "0.0000e+00",
    ]


def test_all_gauges_and_status(tic: Any, gauges: StaticGauges) -> None:
    assert ask(tic, "?V940") == "=V940 1;1.0132e+05;2;5.0691e+01;3;1.5000e-03"
    assert ask(tic, "?V902") == "=V902 0;0;11;11;11;0;0;0;0;0"
    gauges.set_sensor_on(2, False)
    gauges.readings[3] = GaugeReading(GaugeStatus.NO_SENSOR, 0.0)
    assert ask(tic, "?V940") == "=V940 1;1.0132e+05;2;9.9000e+09"
    assert ask(tic, "?V902") == "=V902 0;0;11;5;0;0;0;0;0;0"
    assert ask(tic, "?V933") == "=V933 4;0;0"


def test_identity(tic: Any) -> None:
    assert ask(tic, "?S902") == "=S902 TIC;D39700640S;000000001;5.0"


def test_display_unit(tic: Any, tic_server: TicServer) -> None:
    assert ask(tic, "?S929") == "=S929 2"
    assert ask(tic, "!S929 3") == "*S929 0"
    assert ask(tic, "?S929") == "=S929 3"
    assert ask(tic, "?V913") == "=V913 1.0132e+05;59;11;0;0"  # still Pa
    assert tic_server.display_unit == 3
    assert ask(tic, "!S929 4") == "*S929 4"
    assert ask(tic, "!S929 x") == "*S929 4"
    assert ask(tic, "!S929") == "*S929 3"
    assert ask(tic, "!C929 1") == "*C929 1"
    assert ask(tic, "?S929") == "=S929 3"


def test_gauge_setups(tic: Any, tic_server: TicServer) -> None:
    assert [ask(tic, f"?S{obj} 5") for obj in (913, 914, 915)] == ["=S913 5;2", "=S914 5;15", "=S915 5;10"]
    assert ask(tic, "?S913 7") == "=S913 7;0;0"
    assert ask(tic, "!S913 7;2;1") == "*S913 0"
    assert ask(tic, "?S913 7") == "=S913 7;2;1"
    assert ask(tic, "!S913 7;6;0") == "*S913 4"
    assert ask(tic, "!S913 7;2") == "*S913 3"
    assert ask(tic, "?S914 68") == "=S914 68;G2"
    assert ask(tic, "!S914 68;AB12") == "*S914 0"
    assert ask(tic, "?S914 68") == "=S914 68;AB12"
    assert ask(tic, "!S914 68;abcde") == "*S914 4"
    assert ask(tic, "?S913 99") == "*S913 9"
    assert ask(tic, "!S913 99;1") == "*S913 9"
    assert ask(tic, "?S913") == "*S913 3"
    assert tic_server.names[2] == "AB12"


def test_gauge_commands(tic: Any, gauges: StaticGauges) -> None:
    assert ask(tic, "!C914 0") == "*C914 0"
    assert not gauges.sensor_on(2)
    assert ask(tic, "?V914") == "=V914 9.9000e+09;59;5;0;0"
    assert ask(tic, "!C914 1") == "*C914 0"
    assert ask(tic, "?V914") == "=V914 5.0691e+01;59;11;0;0"
    assert ask(tic, "!C913 0") == "*C913 5"  # a capacitance manometer cannot be switched
    assert gauges.sensor_on(1)
    assert ask(tic, "!C913 2") == "*C913 0"
    assert [ask(tic, f"!C913 {n}") for n in (3, 4, 5)] == ["*C913 1"] * 3
    assert ask(tic, "!C913 6") == "*C913 4"
    assert ask(tic, "!C913") == "*C913 3"


def test_a_gauge_input_the_backend_lacks_is_not_connected(rm: Any) -> None:
    two = StaticGauges(readings={1: GaugeReading(GaugeStatus.OK, 1.0), 2: GaugeReading(GaugeStatus.OK, 2.0)})
    with TicServer(two) as server:
        inst = open_instrument(rm, server, "tcpip", read_termination="\r", write_termination="\r")
        try:
            assert ask(inst, "?V915") == "=V915 9.9000e+09;59;0;6;1"
            assert ask(inst, "?S915 5") == "=S915 5;1"
            assert ask(inst, "!C915 1") == "*C915 5"
            assert ask(inst, "?V940") == "=V940 1;1.0000e+00;2;2.0000e+00"
        finally:
            inst.close()


def test_refusals(tic: Any) -> None:
    assert ask(tic, "?V904") == "*V904 2"  # the turbo pump is not simulated
    assert ask(tic, "!C904 1") == "*C904 2"
    assert ask(tic, "?V913 5") == "*V913 2"
    assert ask(tic, "!V913 1") == "*V913 2"
    assert ask(tic, "?C913") == "*C913 2"
    assert ask(tic, "?X") == "*X0 2"
    assert ask(tic, "?") == "*C0 2"
    assert ask(tic, "!S902 1") == "*S902 1"


def test_bytes_before_the_last_start_character_are_ignored(raw: RawClient) -> None:
    raw.send(b"noise?V9!C9?V913\r")
    assert raw.read_until(b"\r") == b"=V913 1.0132e+05;59;11;0;0\r"
    raw.send(b"#01:01?S929\r")  # a multi-drop prefix: ignored, and not echoed
    assert raw.read_until(b"\r") == b"=S929 2\r"
    raw.send(b"no start character\r")
    assert raw.nothing_within()


def test_messages_split_and_joined(raw: RawClient) -> None:
    raw.send(b"?V9")
    assert raw.nothing_within()
    raw.send(b"13\r?V914\r?S")
    assert raw.read_until(b"\r") == b"=V913 1.0132e+05;59;11;0;0\r"
    assert raw.read_until(b"\r") == b"=V914 5.0691e+01;59;11;0;0\r"
    raw.send(b"929\r")
    assert raw.read_until(b"\r") == b"=S929 2\r"


def test_garbled_fault_keeps_the_terminator(raw: RawClient, faults: SwitchableFaults) -> None:
    faults.set("garbled")
    raw.send(b"?V913\r")
    garbled = raw.read_until(b"\r")
    assert garbled.endswith(b"\r") and b"=V913" not in garbled and b";" not in garbled
    faults.clear()
    raw.send(b"?V913\r")
    assert raw.read_until(b"\r") == b"=V913 1.0132e+05;59;11;0;0\r"


def test_timeout_and_disconnect_faults(raw: RawClient, faults: SwitchableFaults) -> None:
    faults.set("timeout")
    raw.send(b"?V913\r")
    assert raw.nothing_within()
    faults.clear()
    faults.set("disconnect")
    assert raw.closed_by_peer()


def test_a_connection_per_message_like_the_published_client(tic_server: TicServer) -> None:
    for _ in range(20):
        client = RawClient.connect(tic_server)
        try:
            client.send(b"?V914\r")
            assert client.read_until(b"\r") == b"=V914 5.0691e+01;59;11;0;0\r"
        finally:
            client.close()
    assert tic_server.served_connections == 20


def test_a_backend_with_too_many_channels_is_refused() -> None:
    four = StaticGauges(readings={n: GaugeReading(GaugeStatus.OK, 1.0) for n in range(1, 5)})
    with pytest.raises(ValueError, match="1 to 3 gauge inputs"):
        TicServer(four)
