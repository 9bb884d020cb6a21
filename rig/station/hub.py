"""The station's one stream of live messages: numbered, kept for a while, pushed to every page.

A run's observer (:class:`rig.station.feed.RunFeed`) posts from the runner's thread; each page's
event stream waits in the server's event loop. Posting never blocks and never fails because a
page is slow or gone: a page that falls further behind than the ring holds is told to catch up
again from the record (``resync``), and a closed page's loop is simply forgotten.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

# Messages kept for pages that reconnect (EventSource's Last-Event-ID): at a few messages per
# second, minutes of them; a page further behind reads the record again instead.
RING_MESSAGES = 4000

Message = dict[str, Any]


class Hub:
    """Numbered messages (``seq`` from 1), the last ``size`` of them kept, and their waiters woken."""

    def __init__(self, size: int = RING_MESSAGES) -> None:
        if size < 1:
            raise ValueError(f"a hub keeps at least one message, not {size}")
        self._lock = threading.Lock()
        self._ring: deque[Message] = deque(maxlen=size)
        self._seq = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def last_seq(self) -> int:
        """The number of the latest message (0 before the first)."""
        return self._seq

    def post(self, message: Message) -> int:
        """Number ``message``, keep it, wake every waiting page; return its number."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            numbered = {"seq": seq, **message}
            self._ring.append(numbered)
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that page's loop is closed: the server is going down
                self._waiters.discard((loop, event))
        return seq

    def since(self, seq: int) -> list[Message] | None:
        """The messages after ``seq``, oldest first; None when some of them are no longer kept."""
        with self._lock:
            if seq >= self._seq:
                return []
            oldest = self._ring[0]["seq"] if self._ring else self._seq + 1
            if seq + 1 < oldest:
                return None
            return [m for m in self._ring if m["seq"] > seq]

    async def wait(self, seq: int, timeout_s: float) -> None:
        """Return once a message after ``seq`` is posted, or after ``timeout_s``."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(waiter)
            posted = self._seq > seq
        try:
            if not posted:
                await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
