"""What every driver shares: one lock per instrument, retries that are safe, context use.

Idempotent queries (a pressure reading, a relay readback) are retried after a timeout,
a dropped connection or garbled bytes, with a backoff and a protocol-specific
resynchronisation (:meth:`Instrument.resync`), reconnecting first when the connection
is gone. Actuations are never re-sent blindly: :meth:`Instrument.actuate` sends once and
then confirms by readback (itself a retried query). The retry count keeps every call
bounded: at most ``attempts`` × timeout plus the backoff.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

from drivers.errors import (
    ActuationNotConfirmedError,
    DriverError,
    InstrumentDisconnectedError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.transport import Transport

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently an idempotent query is tried."""

    attempts: int = 2
    backoff_s: float = 0.02
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
        with self.lock:
            delays = self.retry.delays()
            for attempt in range(self.retry.attempts):
                try:
                    return transaction()
                except (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError) as exc:
                    if attempt == self.retry.attempts - 1:
                        raise
                    self.stats.retries += 1
                    self._sleep(delays[attempt])
                    self._recover(exc)
            raise AssertionError("unreachable")  # pragma: no cover

    def _recover(self, exc: DriverError) -> None:
        # pyvisa-py reports a closed peer as a timeout: reconnect then too, it is cheap.
        if isinstance(exc, InstrumentDisconnectedError | InstrumentTimeoutError):
            try:
                self.transport.reconnect()
                self.stats.reconnects += 1
            except InstrumentDisconnectedError:
                return  # the next attempt fails fast and reports it
        with contextlib.suppress(DriverError):
            self.resync()

    def actuate(self, command: Callable[[], None], confirmed: Callable[[], bool], what: str) -> None:
        """Send ``command`` once, then check ``confirmed`` (a retried readback)."""
        with self.lock:
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
