"""The edge between drivers and the wire: a VISA resource, or a script in tests.

Drivers speak bytes through :class:`Transport`. :class:`VisaTransport` opens a pyvisa
resource (pyvisa-py by default) and turns pyvisa's ways of failing into our error
types: pyvisa-py reports a peer that closed the socket as a *timeout* and a refused
connection as a plain ``OSError``, so a timeout is followed by a reconnection attempt
before anyone calls the instrument slow.

Which VISA library (backend) pyvisa loads is chosen once per command with
:func:`use_visa_library` (pyvisa-py, ``"@py"``, unless the operator says otherwise);
every transport opened meanwhile uses it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError

from drivers.errors import InstrumentDisconnectedError, InstrumentTimeoutError

DEFAULT_VISA_LIBRARY = "@py"
# What the command in progress chose (see use_visa_library); one per process, as pyvisa keeps one
# resource manager per library.
_visa_library = DEFAULT_VISA_LIBRARY


class VisaLibraryError(ValueError):
    """A VISA library (backend) that pyvisa cannot load; the message says which and why."""


def load_visa_library(library: str) -> pyvisa.ResourceManager:
    """pyvisa's resource manager of ``library`` (``"@py"``, ``"@ivi"``, a path to a VISA library).

    A library that cannot be loaded raises :class:`VisaLibraryError` with one line saying why.
    """
    try:
        return pyvisa.ResourceManager(library)
    except Exception as exc:  # pyvisa says so by ValueError, OSError or LibraryError, by library kind
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise VisaLibraryError(f"VISA library {library!r} cannot be loaded: {reason}") from exc


def current_visa_library() -> str:
    """The VISA library transports open with now (``"@py"`` unless :func:`use_visa_library` says)."""
    return _visa_library


@contextlib.contextmanager
def use_visa_library(library: str) -> Iterator[pyvisa.ResourceManager]:
    """Open every :class:`VisaTransport` with ``library`` until the block ends (then the one before).

    The library is loaded on entry, so one that cannot be raises :class:`VisaLibraryError`
    before any instrument is contacted.
    """
    global _visa_library
    manager = load_visa_library(library)
    before, _visa_library = _visa_library, library
    try:
        yield manager
    finally:
        _visa_library = before


class Transport(Protocol):
    """Bytes to and from one instrument."""

    timeout_s: float
    # Whether a timeout may mean the peer closed the connection (so a retry reconnects first).
    reconnects_on_timeout: bool

    def write(self, data: bytes) -> None:
        """Send ``data`` as is (no terminator added)."""
        ...

    def read_line(self) -> bytes:
        """Read up to and including the line terminator; return the line without it."""
        ...

    def read_exact(self, count: int) -> bytes:
        """Read exactly ``count`` bytes."""
        ...

    def discard_input(self) -> None:
        """Drop whatever the instrument sent that nobody read (bounded in time)."""
        ...

    def reconnect(self) -> None:
        """Close and open the connection again."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class TransportOpener(Protocol):
    """Opens a :class:`Transport` without VISA: an instrument simulated in this very process.

    Given as the driver option :data:`TRANSPORT_OPTION`, it takes the place of the pyvisa
    connection a driver would open (see ``drivers.base.Instrument.visa_transport``); the driver
    and its protocol code are the same either way.
    """

    def __call__(self, read_termination: str, timeout_s: float) -> Transport:
        """A new connection whose lines end with ``read_termination``, each read bounded by ``timeout_s``."""
        ...


#: The driver option (``open_instrument(..., transport=opener)``) that carries a :class:`TransportOpener`.
TRANSPORT_OPTION = "transport"


class VisaTransport:
    """A :class:`Transport` over a pyvisa resource (TCPIP SOCKET or serial, ASRLsocket included).

    ``backend`` is the VISA library; None means the one :func:`use_visa_library` chose.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        read_termination: str,
        timeout_s: float = 2.0,
        backend: str | None = None,
        resource_manager: pyvisa.ResourceManager | None = None,
        open_options: dict[str, Any] | None = None,
    ) -> None:
        self.resource_name = resource_name
        self.read_termination = read_termination
        self.timeout_s = timeout_s
        # pyvisa-py shows a closed TCP peer only as a timeout; a serial line has no peer to lose.
        # (ASRLsocket:// is TCP underneath, but pyserial reports its closed peer as an error.)
        self.reconnects_on_timeout = not resource_name.upper().startswith("ASRL")
        self._fresh = False  # nothing sent or read since the connection opened
        self.backend = backend or _visa_library
        if resource_manager is None:
            try:
                resource_manager = load_visa_library(self.backend)
            except VisaLibraryError as exc:
                # Met here only when no command chose the library first: the instrument is unreachable.
                raise InstrumentDisconnectedError(f"{resource_name}: {exc}") from exc
        self._rm = resource_manager
        self._options = dict(open_options or {})
        self._resource: Any = None
        self._open()

    def _open(self) -> None:
        try:
            self._resource = self._rm.open_resource(
                self.resource_name,
                read_termination=self.read_termination,
                write_termination="",
                **self._options,
            )
        except (VisaIOError, OSError) as exc:
            raise InstrumentDisconnectedError(f"{self.resource_name}: cannot open ({exc})") from exc
        self._resource.timeout = self.timeout_s * 1000.0
        self._fresh = True

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        if self._resource is None:
            raise InstrumentDisconnectedError(f"{self.resource_name}: not connected")
        self._fresh = False
        try:
            return fn(*args)
        except VisaIOError as exc:
            if exc.error_code == constants.StatusCode.error_timeout:
                raise InstrumentTimeoutError(
                    f"{self.resource_name}: no reply to {what} in {self.timeout_s:g} s"
                ) from exc
            raise InstrumentDisconnectedError(
                f"{self.resource_name}: {what} failed ({exc.abbreviation})"
            ) from exc
        except OSError as exc:
            raise InstrumentDisconnectedError(f"{self.resource_name}: {what} failed ({exc})") from exc

    def write(self, data: bytes) -> None:
        """Send ``data`` as is."""
        self._call("write", self._resource.write_raw, data)

    def read_line(self) -> bytes:
        """One line, terminator stripped."""
        raw: bytes = self._call("read", self._resource.read_raw)
        term = self.read_termination.encode("latin-1")
        return raw[: -len(term)] if term and raw.endswith(term) else raw

    def read_exact(self, count: int) -> bytes:
        """Exactly ``count`` bytes."""
        data: bytes = self._call("read", self._resource.read_bytes, count)
        return data

    def discard_input(self) -> None:
        """Drop unread input: read with a short timeout until nothing more comes (≤ 20 reads)."""
        if self._resource is None or self._fresh:
            return  # a connection just opened holds nothing stale
        saved = self._resource.timeout
        self._resource.timeout = 20
        try:
            for _ in range(20):
                try:
                    self._resource.read_raw()
                except (VisaIOError, OSError):
                    break
        finally:
            with contextlib.suppress(Exception):
                self._resource.timeout = saved

    def reconnect(self) -> None:
        """Close and open again (raises :class:`InstrumentDisconnectedError` if the peer refuses)."""
        self._close_resource()
        self._open()

    def _close_resource(self) -> None:
        if self._resource is not None:
            with contextlib.suppress(Exception):
                self._resource.close()
        self._resource = None

    def close(self) -> None:
        """Close the resource. The resource manager stays open: pyvisa shares one per backend."""
        self._close_resource()
