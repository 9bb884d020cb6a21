"""Keysight DAQ970A / Agilent 34972A / HP 34970A: relays (34903A, slot 2) and inputs (34901A, slot 1).

SCPI over a ``\\n``-terminated line (LAN socket 5025, USB or RS-232). Every exchange the
instrument can refuse ends with ``SYST:ERR?``: a refused SCPI command queues an error and
a refused *query* sends no reply at all, so reading the error queue right behind it turns
"wait for a timeout" into a prompt :class:`~drivers.errors.InstrumentError` carrying the
instrument's code (e.g. ``-222``). Behind a query the replies are then either
``<reply>`` + ``+0,"No error"`` or only the error: the two cannot be confused, because a
reading or a relay state never contains ``,"``.

Readings come back in SI units (K, V). The instrument's overload value ``+9.9E+37`` (an
open thermocouple, a voltage beyond range) never becomes a number: it raises
:class:`OverloadError`. Relay actuations are written once and confirmed by a
``ROUT:CLOS?`` readback, as :meth:`drivers.base.Instrument.actuate` prescribes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, Self, TypeVar

from drivers.base import Instrument, RetryPolicy
from drivers.errors import InstrumentError, ProtocolError
from drivers.transport import Transport

__all__ = ["Daq970a", "OverloadError", "ScpiError", "channel_numbers", "format_channel_list"]

#: Bound on ``SYST:ERR?`` reads when draining: the queue holds at most 20 errors (+ overflow).
MAX_ERROR_READS = 30
#: The instrument's reading for an open thermocouple or an input beyond range (either sign).
OVERLOAD = 9.9e37
_THERMOCOUPLE_TYPES = frozenset("BEJKNRST")
_ERROR_REPLY = re.compile(r'([+-]?\d+),"(.*)"')
# SCPI NR1/NR2/NR3 only: Python's float() would also take "nan", "inf" or "1_0".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# What ``UNIT:TEMP?`` may answer (the long forms are accepted on input, so tolerated here).
_UNITS = {"C": "C", "CEL": "C", "F": "F", "FAR": "F", "K": "K"}
_ZERO_CELSIUS_K = 273.15
_T = TypeVar("_T")


@dataclass(frozen=True)
class ScpiError:
    """One entry of the instrument's error queue: SCPI ``code`` (negative) and its ``message``."""

    code: int
    message: str

    def __str__(self) -> str:
        return f'{self.code:+d},"{self.message}"'


class OverloadError(InstrumentError):
    """An input read the overload value ``+9.9E+37``: an open thermocouple or a voltage beyond range."""

    def __init__(self, message: str, channels: list[int]) -> None:
        super().__init__(message, code="+9.9E+37")
        self.channels = channels


def channel_numbers(channels: Iterable[int]) -> list[int]:
    """The channels as sorted unique ``scc`` numbers (slot 1-3, channel 01-99); ValueError otherwise."""
    numbers: set[int] = set()
    for ch in channels:
        # bool is an int; True would silently mean channel 1.
        if isinstance(ch, bool) or not isinstance(ch, int):
            raise ValueError(f"channel {ch!r} is not an integer like 201")
        slot, number = divmod(ch, 100)
        if not (1 <= slot <= 3 and 1 <= number <= 99):
            raise ValueError(f"channel {ch} is not slot 1-3 followed by a two-digit channel (101…399)")
        numbers.add(ch)
    if not numbers:
        raise ValueError("no channels given")
    return sorted(numbers)


def format_channel_list(channels: Iterable[int]) -> str:
    """A SCPI channel list, runs of three or more compressed: ``[201, 203, 204, 205]`` → ``(@201,203:205)``.

    Two neighbours stay a pair (``(@201,202)``, as the manual writes it); a run never spans
    two slots because ``x99`` and ``(x+1)01`` are not consecutive numbers.
    """
    numbers = channel_numbers(channels)
    items: list[str] = []
    start = prev = numbers[0]
    for ch in [*numbers[1:], None]:
        if ch is not None and ch == prev + 1:
            prev = ch
            continue
        if prev - start >= 2:
            items.append(f"{start}:{prev}")
        else:
            items.extend(str(c) for c in range(start, prev + 1))
        if ch is not None:
            start = prev = ch
    return "(@" + ",".join(items) + ")"


class Daq970a(Instrument):
    """A DAQ970A, 34972A or 34970A with a 34903A actuator (relays) and a 34901A multiplexer (inputs)."""

    model = "DAQ970A"

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(transport, retry=retry, sleep=sleep)
        # UNIT:TEMP as last read; None until needed and after every resync (the box may have restarted).
        self._temperature_unit: str | None = None

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        timeout_s: float = 5.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Open ``resource_name`` (e.g. ``TCPIP::10.0.0.5::5025::SOCKET``) through pyvisa-py.

        ``timeout_s`` bounds each reply; a thermocouple measurement can take over a second
        at high NPLC, hence the 5 s default. ``visa_options`` go to ``open_resource``
        (``baud_rate``, ``flow_control`` … for a 34970A on RS-232).
        """
        return cls(cls.visa_transport(resource_name, timeout_s, visa_options), retry=retry)

    # --- identity, status, error queue -------------------------------------------------------------

    def identity(self) -> str:
        """The ``*IDN?`` string: manufacturer, model, serial number, firmware (four fields)."""

        def transaction() -> str:
            reply = self._ask_unchecked("*IDN?")
            if reply.count(",") != 3:
                raise ProtocolError(f"{self.model}: *IDN? reply {reply!r} does not have four fields")
            return reply

        return self.query(transaction)

    def reset(self) -> None:
        """``*RST``: open every relay and restore the defaults (°C); returns once ``*OPC?`` says done.

        A reset opens relays, so it is an actuation: written once, then confirmed.
        """
        with self.conversation():
            self._temperature_unit = None
            self.actuate(lambda: self._write("*RST"), self._operation_complete, "*RST")

    def clear(self) -> None:
        """``*CLS``: empty the error queue (the errors are lost; read :meth:`errors` first to keep them)."""
        self.query(lambda: self._command("*CLS"))

    def errors(self) -> list[ScpiError]:
        """Drain the error queue (``SYST:ERR?`` until ``+0``): the queued errors, oldest first.

        At most :data:`MAX_ERROR_READS` are read. Each read is retried on its own, so a
        lost reply costs at most the one error it carried, never the ones already read.
        """
        found: list[ScpiError] = []
        with self.lock:
            for _ in range(MAX_ERROR_READS):
                error = self.query(self._next_error)
                if error.code == 0:
                    break
                found.append(error)
        return found

    def send(self, command: str) -> None:
        """Write a SCPI ``command`` the driver has no method for, once; raise InstrumentError if refused.

        The command is never repeated (it may act on something); only the error check is retried.
        """
        with self.conversation():
            self._write(command)
            self.query(lambda: self._check(command))

    # --- relays ----------------------------------------------------------------------------------------

    def close_relays(self, channels: Iterable[int]) -> None:
        """Close (energise, COM→NO) every relay of ``channels`` with one ``ROUT:CLOS``, confirmed by readback.

        Raises InstrumentError if the instrument refuses the list (e.g. ``-222`` for a channel
        it lacks) and ActuationNotConfirmedError if ``ROUT:CLOS?`` disagrees; never resends.
        """
        self._switch(channels, closed=True)

    def open_relays(self, channels: Iterable[int]) -> None:
        """Open (de-energise) every relay of ``channels`` with one ``ROUT:OPEN``, confirmed by readback."""
        self._switch(channels, closed=False)

    def relays_closed(self, channels: Iterable[int]) -> dict[int, bool]:
        """``ROUT:CLOS?``: channel → True when closed (the instrument's own record, not a contact sense)."""
        numbers = channel_numbers(channels)
        return self.query(lambda: self._relay_states("CLOS", numbers))

    def relays_open(self, channels: Iterable[int]) -> dict[int, bool]:
        """``ROUT:OPEN?``: channel → True when open."""
        numbers = channel_numbers(channels)
        return self.query(lambda: self._relay_states("OPEN", numbers))

    def _switch(self, channels: Iterable[int], *, closed: bool) -> None:
        numbers = channel_numbers(channels)
        command = f"ROUT:{'CLOS' if closed else 'OPEN'} {format_channel_list(numbers)}"

        def confirmed() -> bool:
            # The check reads the error the command itself may have queued; retrying it is safe.
            self._check(command)
            return all(state == closed for state in self._relay_states("CLOS", numbers).values())

        with self.conversation():
            self.actuate(lambda: self._write(command), confirmed, command)

    def _relay_states(self, kind: str, numbers: list[int]) -> dict[int, bool]:
        command = f"ROUT:{kind}? {format_channel_list(numbers)}"
        fields = self._ask(command).split(",")
        if len(fields) != len(numbers) or any(f not in ("0", "1") for f in fields):
            raise ProtocolError(f"{self.model}: {command} reply {','.join(fields)!r} is not 0/1 per channel")
        return {ch: f == "1" for ch, f in zip(numbers, fields, strict=True)}

    # --- measurements ------------------------------------------------------------------------------------

    def temperature_k(self, channel: int, thermocouple: str = "K") -> float:
        """``MEAS:TEMP? TC,<type>,(@ch)``: the thermocouple temperature in K.

        Raises OverloadError for an open thermocouple (``+9.9E+37``), never a number.
        """
        return self.temperatures_k([channel], thermocouple)[channel]

    def temperatures_k(self, channels: Iterable[int], thermocouple: str = "K") -> dict[int, float]:
        """One ``MEAS:TEMP?`` scan of ``channels``: channel → temperature in K.

        The instrument's unit (``UNIT:TEMP?``, C, F or K) is read once, cached and
        converted from. One open thermocouple raises OverloadError naming every open channel.
        """
        tc = thermocouple.upper()
        if tc not in _THERMOCOUPLE_TYPES:
            raise ValueError(
                f"thermocouple type {thermocouple!r} is not one of {sorted(_THERMOCOUPLE_TYPES)}"
            )
        numbers = channel_numbers(channels)
        command = f"MEAS:TEMP? TC,{tc},{format_channel_list(numbers)}"

        def transaction() -> dict[int, float]:
            unit = self._unit()
            return {ch: _kelvin(v, unit) for ch, v in self._measure(command, numbers).items()}

        return self.query(transaction)

    def volts(self, channel: int) -> float:
        """``MEAS:VOLT:DC? (@ch)``: the DC voltage in V (autorange). Raises OverloadError beyond range."""
        return self.volts_many([channel])[channel]

    def volts_many(self, channels: Iterable[int]) -> dict[int, float]:
        """One ``MEAS:VOLT:DC?`` scan of ``channels``: channel → DC voltage in V (limit switches, outputs)."""
        numbers = channel_numbers(channels)
        command = f"MEAS:VOLT:DC? {format_channel_list(numbers)}"
        return self.query(lambda: self._measure(command, numbers))

    def _measure(self, command: str, numbers: list[int]) -> dict[int, float]:
        # Readings come in channel-list order, which format_channel_list keeps ascending.
        fields = self._ask(command).split(",")
        if len(fields) != len(numbers) or not all(_NUMBER.fullmatch(f) for f in fields):
            raise ProtocolError(
                f"{self.model}: {command} reply {','.join(fields)!r} is not one number a channel"
            )
        readings = {ch: float(f) for ch, f in zip(numbers, fields, strict=True)}
        overloaded = [ch for ch, v in readings.items() if abs(v) >= OVERLOAD]
        if overloaded:
            raise OverloadError(
                f"{self.model}: overload (+9.9E+37: open thermocouple or beyond range) on "
                f"{format_channel_list(overloaded)}",
                overloaded,
            )
        return readings

    def _unit(self) -> str:
        if self._temperature_unit is None:
            reply = self._ask_unchecked("UNIT:TEMP?")
            if reply.upper() not in _UNITS:
                raise ProtocolError(f"{self.model}: UNIT:TEMP? reply {reply!r} is not C, F or K")
            self._temperature_unit = _UNITS[reply.upper()]
        return self._temperature_unit

    # --- conversation ------------------------------------------------------------------------------------

    def resync(self) -> None:
        """Drop unread replies and forget the cached temperature unit (no ``*CLS``: errors stay readable)."""
        self._temperature_unit = None
        super().resync()

    def _write(self, command: str) -> None:
        self.transport.write(command.encode("ascii") + b"\n")

    def _read(self) -> str:
        raw = self.transport.read_line()
        try:
            return raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"{self.model}: reply {raw!r} is not ASCII") from exc

    def _ask_unchecked(self, command: str) -> str:
        """A query that cannot be refused (``*IDN?``, ``UNIT:TEMP?``, ``*OPC?``): its reply line."""
        self._write(command)
        return self._read()

    def _ask(self, command: str) -> str:
        """A query followed by ``SYST:ERR?``: its reply, or InstrumentError if it was refused."""
        self._write(command)
        self._write("SYST:ERR?")
        first = self._read()
        refused = _error_entry(first)
        if refused is not None:
            if refused.code == 0:
                # The reply went missing but the error check answered: we are out of step.
                raise ProtocolError(f"{self.model}: no reply to {command}, only {first!r}")
            self._raise_queued(refused, command)
        self._raise_if_error(self._parse_error(self._read()), command)
        return first

    def _command(self, command: str) -> None:
        """An idempotent command and its error check (safe to run again under :meth:`query`)."""
        self._write(command)
        self._check(command)

    def _check(self, after: str) -> None:
        self._raise_if_error(self._next_error(), after)

    def _next_error(self) -> ScpiError:
        self._write("SYST:ERR?")
        return self._parse_error(self._read())

    def _parse_error(self, reply: str) -> ScpiError:
        error = _error_entry(reply)
        if error is None:
            raise ProtocolError(f'{self.model}: SYST:ERR? reply {reply!r} is not <code>,"<message>"')
        return error

    def _raise_if_error(self, error: ScpiError, after: str) -> None:
        if error.code != 0:
            self._raise_queued(error, after)

    def _raise_queued(self, first: ScpiError, after: str) -> NoReturn:
        # Drain the rest so that the next command's check does not report this one's errors.
        queued = [first]
        for _ in range(MAX_ERROR_READS - 1):
            error = self._next_error()
            if error.code == 0:
                break
            queued.append(error)
        listed = "; ".join(str(e) for e in queued)
        raise InstrumentError(f"{self.model} refused {after}: {listed}", code=first.code)

    def _operation_complete(self) -> bool:
        reply = self._ask_unchecked("*OPC?")
        if reply != "1":
            raise ProtocolError(f"{self.model}: *OPC? reply {reply!r} is not 1")
        return True


def _kelvin(value: float, unit: str) -> float:
    if unit == "C":
        return value + _ZERO_CELSIUS_K
    if unit == "F":
        return (value - 32.0) * 5.0 / 9.0 + _ZERO_CELSIUS_K
    return value


def _error_entry(reply: str) -> ScpiError | None:
    match = _ERROR_REPLY.fullmatch(reply)
    return None if match is None else ScpiError(int(match.group(1)), match.group(2))
