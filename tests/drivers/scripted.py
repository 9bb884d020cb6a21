"""A scripted transport: the byte-exact edge that driver unit tests mock (PyMeasure style).

A script is a list of exchanges: the bytes the driver must write next, and the frames
the instrument answers with (what ``read_line`` or ``read_exact`` then return, in
order; an exception instance is raised instead). Anything else the driver writes fails
the test at once, and :meth:`ScriptedTransport.assert_done` checks that the whole script
was used.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from drivers.errors import InstrumentTimeoutError

Reply = bytes | Exception


class ScriptedTransport:
    """A :class:`drivers.transport.Transport` that follows a script."""

    def __init__(self, exchanges: Sequence[tuple[bytes, Sequence[Reply]]], timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self.reconnects_on_timeout = True
        self._script: deque[tuple[bytes, Sequence[Reply]]] = deque(exchanges)
        self._pending: deque[Reply] = deque()
        self.written: list[bytes] = []
        self.discards = 0
        self.reconnects = 0
        self.closed = False

    def write(self, data: bytes) -> None:
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
        return self._next()

    def read_exact(self, count: int) -> bytes:
        data = self._next()
        if len(data) != count:
            raise AssertionError(f"driver read {count} bytes, the script holds {data!r}")
        return data

    def discard_input(self) -> None:
        self.discards += 1
        self._pending.clear()

    def reconnect(self) -> None:
        self.reconnects += 1
        self._pending.clear()

    def close(self) -> None:
        self.closed = True

    def assert_done(self) -> None:
        """The driver wrote everything the script expected and read every reply."""
        assert not self._script, f"script not finished: next expected write {self._script[0][0]!r}"
        assert not self._pending, f"replies never read: {list(self._pending)!r}"
