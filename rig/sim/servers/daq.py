"""Simulated Keysight DAQ970A / Agilent 34972A / HP 34970A: SCPI over TCP, ``\\n`` terminated.

Byte for byte as in the project's protocol spec (section 2.1, table 5.2), with a 34901A
multiplexer in slot 1 (thermocouples, DC volts) and a 34903A actuator in slot 2 (relays)
as the backend defines them. Headers are case-insensitive in short or long form
(``ROUT``/``ROUTe``, ``MEAS:TEMP?``/``MEASure:TEMPerature?``), several commands may share a
line separated by ``;`` (their replies then share one line too), and errors go to a real
SCPI error queue read by ``SYST:ERR?``. A query that fails queues its error and sends
nothing, as the instrument does.

Choices where the spec is [UNVERIFIED], made once here:

* A channel that neither module has (``ROUT:CLOS (@299)``), or a relay channel given to a
  measurement, is ``-222,"Data out of range"`` and the whole command is ignored.
* ``*IDN?`` strings: see :data:`IDN_BY_MODEL`.
* ``MEAS?`` and ``CONF`` redefine the scan list, as on the 34970A; ``ROUT:SCAN`` accepts
  only configured input channels (else ``-221,"Settings conflict"``); ``READ?`` with no
  scan list is ``-221``. A malformed channel list is ``-102,"Syntax error"``.
* ``UNIT:TEMP`` is instrument-wide (a trailing channel list is accepted and ignored); the
  overload value ``+9.90000000E+37`` is never converted.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

from rig.sim.backend import DaqBackend, ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

__all__ = ["IDN_BY_MODEL", "DaqServer", "compile_header"]

IDN_BY_MODEL = {
    "DAQ970A": "Keysight Technologies,DAQ970A,MY00000000,A.03.01-01.00-03.01-00.02-01.00-02.01",
    "34972A": "Agilent Technologies,34972A,MY00000000,1.16-1.12-02-02",
    "34970A": "HEWLETT-PACKARD,34970A,0,13-2-2",
}

OVERLOAD = 9.9e37
ERROR_QUEUE_LENGTH = 20
_MESSAGES = {
    0: "No error",
    -102: "Syntax error",
    -109: "Missing parameter",
    -113: "Undefined header",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -350: "Queue overflow",
}
_TEMPERATURE_UNITS = {"C": "C", "CEL": "C", "F": "F", "FAR": "F", "K": "K"}
_PROBES = frozenset({"TC", "TCOUPLE", "RTD", "FRTD", "THER", "THERMISTOR", "DEF"})
_THERMOCOUPLE_TYPES = frozenset({"B", "E", "J", "K", "N", "R", "S", "T", "DEF"})
_CHANNEL_LIST = re.compile(r"\(\s*@([^)]*)\)")
_CHANNEL_ITEM = re.compile(r"\s*(\d{1,6})\s*(?::\s*(\d{1,6})\s*)?")
# Channel numbers are slot*100 + channel with 3 slots: a range beyond is refused unexpanded.
_LOWEST_CHANNEL, _HIGHEST_CHANNEL = 101, 399


class _ScpiError(Exception):
    """A command the instrument rejects, queueing ``code`` in its error queue."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def compile_header(pattern: str) -> re.Pattern[str]:
    """A matcher for a SCPI header pattern such as ``MEASure[:SCALar]:VOLTage[:DC]?``.

    Each keyword matches its short form (the upper-case part) or its long form, in any
    case; ``[...]`` marks an optional node.
    """
    out: list[str] = []
    for token in re.findall(r"\[|\]|:|\?|\*?[A-Za-z]+", pattern):
        if token == "[":
            out.append("(?:")
        elif token == "]":
            out.append(")?")
        elif token in (":", "?"):
            out.append(re.escape(token))
        else:
            short = "".join(c for c in token if not c.islower())
            forms = sorted({short, token.upper()}, key=len, reverse=True)
            out.append("(?:" + "|".join(re.escape(f) for f in forms) + ")")
    return re.compile("".join(out), re.IGNORECASE)


def _format(value: float) -> str:
    return f"{value:+.8E}"


class DaqServer(InstrumentServer):
    """A DAQ970A (or 34972A/34970A by ``model``) on 127.0.0.1 in front of ``daq``."""

    terminator = b"\n"

    def __init__(
        self,
        daq: DaqBackend,
        *,
        model: str = "DAQ970A",
        faults: ServerFaults | None = None,
        port: int = 0,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
    ) -> None:
        super().__init__(
            port=port, faults=faults, max_connections=max_connections, max_request_bytes=max_request_bytes
        )
        if model not in IDN_BY_MODEL:
            raise ValueError(f"model must be one of {sorted(IDN_BY_MODEL)}, not {model!r}")
        self.daq = daq
        self.model = model
        self.errors: deque[int] = deque()
        self.temperature_unit = "C"
        self.closed_inputs: set[int] = set()
        self.configured: dict[int, str] = {}  # input channel -> "TEMP" or "VOLT"
        self.scan_list: list[int] = []
        table: list[tuple[str, Callable[[str], str | None]]] = [
            ("*IDN?", lambda _: IDN_BY_MODEL[self.model]),
            ("*RST", self._reset),
            ("*CLS", self._clear_status),
            ("*OPC?", lambda _: "1"),
            ("*OPC", _nothing),
            ("*WAI", _nothing),
            ("SYSTem:ERRor[:NEXT]?", self._next_error),
            ("ROUTe:CLOSe", lambda args: self._switch(args, closed=True)),
            ("ROUTe:OPEN", lambda args: self._switch(args, closed=False)),
            ("ROUTe:CLOSe?", lambda args: self._switch_state(args, closed=True)),
            ("ROUTe:OPEN?", lambda args: self._switch_state(args, closed=False)),
            ("ROUTe:SCAN", self._set_scan),
            ("UNIT:TEMPerature", self._set_unit),
            ("UNIT:TEMPerature?", lambda _: self.temperature_unit),
            ("MEASure[:SCALar]:TEMPerature?", lambda args: self._measure(args, "TEMP")),
            ("MEASure[:SCALar]:VOLTage[:DC]?", lambda args: self._measure(args, "VOLT")),
            ("CONFigure[:SCALar]:TEMPerature", lambda args: self._configure(args, "TEMP")),
            ("CONFigure[:SCALar]:VOLTage[:DC]", lambda args: self._configure(args, "VOLT")),
            ("READ?", self._read),
        ]
        self._commands = [(compile_header(p), handler) for p, handler in table]

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        # Lines end with \n; a \r before it is stripped with the other white space.
        return FramedSession(
            self, b"\n", lambda line: self.handle_line(line.decode("ascii", "replace").strip())
        )

    def handle_line(self, line: str) -> bytes | None:
        """Execute one line of ``;``-separated commands; their replies as one line, if any."""
        replies = [r for r in (self._execute(c) for c in line.split(";")) if r is not None]
        return (";".join(replies) + "\n").encode("ascii") if replies else None

    def push_error(self, code: int) -> None:
        """Queue an error; a full queue keeps its oldest errors and ends with -350."""
        if len(self.errors) >= ERROR_QUEUE_LENGTH:
            self.errors[-1] = -350
        else:
            self.errors.append(code)

    # -- dispatch -------------------------------------------------------------------------------

    def _execute(self, command: str) -> str | None:
        words = command.split(None, 1)
        if not words:
            return None
        header, args = words[0].lstrip(":"), words[1] if len(words) > 1 else ""
        for pattern, handler in self._commands:
            if pattern.fullmatch(header):
                try:
                    return handler(args.strip())
                except _ScpiError as error:
                    self.push_error(error.code)
                    return None
        self.push_error(-113)
        return None

    # -- commands -------------------------------------------------------------------------------

    def _reset(self, _: str) -> None:
        self.daq.open_all_relays()
        self.closed_inputs.clear()
        self.temperature_unit = "C"
        self.configured.clear()
        self.scan_list = []

    def _clear_status(self, _: str) -> None:
        self.errors.clear()

    def _next_error(self, _: str) -> str:
        code = self.errors.popleft() if self.errors else 0
        return f'{code:+d},"{_MESSAGES[code]}"'

    def _switch(self, args: str, *, closed: bool) -> None:
        channels = self._channels(args, self._switchable)
        for ch in channels:
            if self.daq.has_relay(ch):
                self.daq.set_relay(ch, closed)
            elif closed:
                self.closed_inputs.add(ch)
            else:
                self.closed_inputs.discard(ch)

    def _switch_state(self, args: str, *, closed: bool) -> str:
        def is_closed(ch: int) -> bool:
            return self.daq.relay_closed(ch) if self.daq.has_relay(ch) else ch in self.closed_inputs

        channels = self._channels(args, self._switchable)
        return ",".join("1" if is_closed(ch) == closed else "0" for ch in channels)

    def _set_unit(self, args: str) -> None:
        word = _parameters(args)[0].upper() if args else ""
        if not word:
            raise _ScpiError(-109)
        if word not in _TEMPERATURE_UNITS:
            raise _ScpiError(-224)
        self.temperature_unit = _TEMPERATURE_UNITS[word]

    def _measure(self, args: str, function: str) -> str:
        self._configure(args, function)
        return self._read("")

    def _configure(self, args: str, function: str) -> None:
        params = _parameters(args)
        channels = self._channels(params[-1] if params else "", self.daq.has_input)
        settings = [p.upper() for p in params[:-1]]
        if function == "TEMP":
            probe = settings[0] if settings else "DEF"
            if probe not in _PROBES:
                raise _ScpiError(-224)
            if probe in ("TC", "TCOUPLE") and len(settings) > 1 and settings[1] not in _THERMOCOUPLE_TYPES:
                raise _ScpiError(-224)
        for ch in channels:
            self.configured[ch] = function
        self.scan_list = channels

    def _set_scan(self, args: str) -> None:
        channels = self._channels(args, self.daq.has_input, allow_empty=True)
        if any(ch not in self.configured for ch in channels):
            raise _ScpiError(-221)
        self.scan_list = channels

    def _read(self, _: str) -> str:
        if not self.scan_list:
            raise _ScpiError(-221)
        return ",".join(_format(self._reading(ch)) for ch in self.scan_list)

    def _reading(self, channel: int) -> float:
        if self.configured[channel] == "VOLT":
            return self.daq.volts(channel)
        celsius = self.daq.temperature_c(channel)
        if abs(celsius) >= OVERLOAD or self.temperature_unit == "C":
            return celsius
        return celsius * 9.0 / 5.0 + 32.0 if self.temperature_unit == "F" else celsius + 273.15

    # -- channel lists --------------------------------------------------------------------------

    def _switchable(self, channel: int) -> bool:
        return self.daq.has_relay(channel) or self.daq.has_input(channel)

    def _channels(self, text: str, exists: Callable[[int], bool], *, allow_empty: bool = False) -> list[int]:
        """The channels of a ``(@101,103:105)`` list, each of which must satisfy ``exists``."""
        match = _CHANNEL_LIST.fullmatch(text.strip())
        if match is None:
            raise _ScpiError(-109 if not text.strip() else -102)
        channels: list[int] = []
        items = match.group(1).split(",") if match.group(1).strip() else []
        for item in items:
            parsed = _CHANNEL_ITEM.fullmatch(item)
            if parsed is None:
                raise _ScpiError(-102)
            first = int(parsed.group(1))
            last = int(parsed.group(2)) if parsed.group(2) else first
            if not _LOWEST_CHANNEL <= first <= last <= _HIGHEST_CHANNEL:
                raise _ScpiError(-222)
            channels.extend(range(first, last + 1))
        if not channels and not allow_empty:
            raise _ScpiError(-109)
        if not all(exists(ch) for ch in channels):
            raise _ScpiError(-222)
        return channels


def _nothing(_: str) -> None:
    return None


def _parameters(args: str) -> list[str]:
    """Comma-separated parameters, a parenthesised channel list counting as one."""
    params: list[str] = []
    depth, start = 0, 0
    for i, c in enumerate(args):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(depth - 1, 0)
        elif c == "," and depth == 0:
            params.append(args[start:i].strip())
            start = i + 1
    tail = args[start:].strip()
    if tail or params:
        params.append(tail)
    return params
