"""Byte-exact protocol tests: a driver on a scripted transport (PyMeasure's ``expected_protocol`` idea).

A script is the manual's exchanges written as bytes: what the driver must write next, and
what the instrument answers (the frames ``read_line`` or ``read_exact`` then return, in
order; an exception instance is raised instead, e.g. an
:class:`~drivers.errors.InstrumentTimeoutError` to play a lost reply). Any other byte the
driver writes fails the test at once, a read with no reply due times out like a silent
instrument, and :meth:`ScriptedTransport.assert_done` checks that the whole script was used.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from drivers.errors import InstrumentTimeoutError

__all__ = ["Exchange", "Reply", "ScriptedTransport", "expected_protocol"]

#: What the instrument answers to one write: a frame, or an exception the read raises.
Reply = bytes | Exception
#: One exchange: the bytes the driver must write, and the replies that write brings.
Exchange = tuple[bytes, Sequence[Reply]]

D = TypeVar("D")


class ScriptedTransport:
    """A :class:`drivers.transport.Transport` that follows a script and fails on anything else."""

    def __init__(self, exchanges: Sequence[Exchange], timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self.reconnects_on_timeout = True
        self._script: deque[Exchange] = deque(exchanges)
        self._pending: deque[Reply] = deque()
        #: Every write, in order (the expected ones and the one that failed the script).
        self.written: list[bytes] = []
        self.discards = 0
        self.reconnects = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        """Check ``data`` against the next exchange of the script and queue its replies."""
        self.written.append(data)
        if not self._script:
            raise AssertionError(f"unexpected write {data!r}: the script is finished")
        expected, replies = self._script.popleft()
        if data != expected:
            raise AssertionError(f"driver wrote {data!r}, the script expects {expected!r}")
        self._pending.extend(replies)

    def _next(self) -> bytes:
        if not self._pending:
            raise InstrumentTimeoutError("scripted instrument: no reply due")
        reply = self._pending.popleft()
        if isinstance(reply, Exception):
            raise reply
        return reply

    def read_line(self) -> bytes:
        """The next scripted frame (a line without its termination)."""
        return self._next()

    def read_exact(self, count: int) -> bytes:
        """The next scripted frame, which must be ``count`` bytes long."""
        data = self._next()
        if len(data) != count:
            raise AssertionError(f"driver read {count} bytes, the script holds {data!r}")
        return data

    def discard_input(self) -> None:
        """Drop the replies not read yet (counted in :attr:`discards`)."""
        self.discards += 1
        self._pending.clear()

    def reconnect(self) -> None:
        """Drop the replies not read yet, as a new connection would (counted in :attr:`reconnects`)."""
        self.reconnects += 1
        self._pending.clear()

    def close(self) -> None:
        """Mark the transport closed."""
        self.closed = True

    def assert_done(self) -> None:
        """The driver wrote everything the script expected and read every reply."""
        assert not self._script, f"script not finished: next expected write {self._script[0][0]!r}"
        assert not self._pending, f"replies never read: {list(self._pending)!r}"


@contextlib.contextmanager
def expected_protocol(
    driver_cls: type[D], exchanges: Sequence[Exchange], **driver_kwargs: Any
) -> Iterator[D]:
    """A ``driver_cls`` on a :class:`ScriptedTransport` of ``exchanges``, checked at the end.

    The driver is built as ``driver_cls(transport, **driver_kwargs)``, its constructor's own
    exchanges included. Leaving the block without an exception checks that every exchange was
    written and every reply read (an unexpected write fails inside the block, where it happens)::

        ACK, ENQ = b"\\x06", b"\\x05"
        script = [(b"PR1\\r", [ACK]), (ENQ, [b"0,1.0000E-03"]), (b"UNI\\r", [ACK]), (ENQ, [b"0"])]
        with expected_protocol(Tpg36x, script, channels=2) as tpg:
            assert tpg.read(1).pressure_pa == pytest.approx(0.1)  # 1e-3 mbar
    """
    transport = ScriptedTransport(exchanges)
    driver = driver_cls(transport, **driver_kwargs)  # type: ignore[call-arg]
    yield driver
    transport.assert_done()
