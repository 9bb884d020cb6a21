"""What every driver shares: one lock per instrument, retries that are safe, context use.

Idempotent queries (a pressure reading, a relay readback) are retried after a timeout,
a dropped connection or garbled bytes, with a protocol-specific resynchronisation
(:meth:`Instrument.resync`), reconnecting first when the connection is gone. Actuations
are never re-sent blindly: :meth:`Instrument.actuate` sends once and then confirms by
readback (itself a retried query). Every call is bounded: ``attempts`` × timeout plus the
backoff, because the time spent recovering (reconnect, resync) is taken out of the
backoff wait, not added to it. After a call that failed part-way, the next one first
resynchronises, so that a late reply cannot answer the wrong question.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from drivers.errors import (
    ActuationNotConfirmedError,
    DriverError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.transport import TRANSPORT_OPTION, Transport, VisaTransport

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently an idempotent query is tried."""

    attempts: int = 2
    # Long enough to hold a recovery (a reconnect on loopback, a 20 ms drain of stale input).
    backoff_s: float = 0.05
    backoff_factor: float = 2.0
    max_backoff_s: float = 0.5

    def delays(self) -> list[float]:
        """The waits between attempts."""
        out, delay = [], self.backoff_s
        for _ in range(self.attempts - 1):
            out.append(min(delay, self.max_backoff_s))
            delay *= self.backoff_factor
        return out


@dataclass
class TransferStats:
    """What the retries hid from the caller (a run record keeps these)."""

    retries: int = 0
    reconnects: int = 0


class Instrument:
    """Base of every driver: a transport, a lock around each transaction, safe retries."""

    model = "instrument"
    #: What ends a reply line on the wire (the VISA read termination).
    read_termination: ClassVar[str] = "\n"

    @classmethod
    def visa_transport(cls, resource: str, timeout_s: float, visa_options: dict[str, Any]) -> Transport:
        """A pyvisa-py connection to ``resource`` framed for this instrument's replies.

        When the options carry a :class:`~drivers.transport.TransportOpener` (under
        :data:`~drivers.transport.TRANSPORT_OPTION`: a simulated instrument in this process),
        that opens the connection instead, and ``resource`` only names it.
        """
        opener = visa_options.get(TRANSPORT_OPTION)
        if opener is not None:
            transport: Transport = opener(cls.read_termination, timeout_s)
            return transport
        return VisaTransport(
            resource, read_termination=cls.read_termination, timeout_s=timeout_s, open_options=visa_options
        )

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.stats = TransferStats()
        self.lock = threading.RLock()
        self._sleep = sleep
        # Set when a call failed part-way: its reply may still arrive and must not be taken
        # for the answer to the next call.
        self._suspect = False

    # --- what protocols refine ------------------------------------------------------------------

    def resync(self) -> None:
        """Bring the conversation back to a known state after a failure (drop stale input)."""
        self.transport.discard_input()

    def identity(self) -> str:
        """The instrument's own identification string."""
        raise NotImplementedError

    # --- transactions ---------------------------------------------------------------------------

    def query(self, transaction: Callable[[], T]) -> T:
        """Run an idempotent ``transaction`` under the lock, retrying it as the policy says."""
        # The body of conversation(), spelled out: this is the hot path of every sample.
        with self.lock:
            if self._suspect:
                self._resync_after_break()
            try:
                return self._attempts(transaction)
            except (InstrumentError, ActuationNotConfirmedError):
                raise
            except BaseException:
                self._suspect = True
                raise

    def _attempts(self, transaction: Callable[[], T]) -> T:
        for attempt in range(self.retry.attempts):
            try:
                return transaction()
            except (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError) as exc:
                if attempt == self.retry.attempts - 1:
                    raise
                self.stats.retries += 1
                started = time.monotonic()
                self._recover(exc)
                delay = self.retry.delays()[attempt]
                self._sleep(max(0.0, delay - (time.monotonic() - started)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _resync_after_break(self) -> None:
        self._suspect = False
        with contextlib.suppress(DriverError):
            self.resync()

    @contextlib.contextmanager
    def conversation(self) -> Iterator[None]:
        """Hold the lock for a multi-step exchange, resynchronising first if the last one broke off.

        A failure other than the instrument's own refusal marks the conversation as broken
        off, so that whatever late reply it left behind is dropped before the next one.
        """
        with self.lock:
            if self._suspect:
                self._resync_after_break()
            try:
                yield
            except (InstrumentError, ActuationNotConfirmedError):
                raise  # the instrument answered in full: nothing is left on the line
            except BaseException:
                self._suspect = True
                raise

    def _recover(self, exc: DriverError) -> None:
        # pyvisa-py reports a closed peer as a timeout, so a timeout on a network resource
        # reconnects too (cheap on a LAN). A serial line is not "closed" by a timeout.
        timeout_may_be_closed = (
            isinstance(exc, InstrumentTimeoutError) and self.transport.reconnects_on_timeout
        )
        if isinstance(exc, InstrumentDisconnectedError) or timeout_may_be_closed:
            try:
                self.transport.reconnect()
                self.stats.reconnects += 1
            except InstrumentDisconnectedError:
                return  # the next attempt fails fast and reports it
        with contextlib.suppress(DriverError):
            self.resync()

    def actuate(self, command: Callable[[], None], confirmed: Callable[[], bool], what: str) -> None:
        """Send ``command`` once, then check ``confirmed`` (a retried readback)."""
        with self.conversation():
            command()
            if not self.query(confirmed):
                raise ActuationNotConfirmedError(f"{self.model}: {what} not confirmed by readback")

    # --- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
