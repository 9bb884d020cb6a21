"""Faults a test switches on a simulated server: a :class:`rig.sim.backend.ServerFaults` double.

A simulated server asks its faults object, at each point where a fault could act, whether a
kind is active (see ``ServerFaults.active``): "timeout" when a request arrives and before each
reply, "garbled", "latency" and "disconnect" before each reply (and "disconnect" between
requests). :class:`SwitchableFaults` answers from switches a test sets: on until switched off
(:meth:`~SwitchableFaults.set`), for the next few asks only (:meth:`~SwitchableFaults.once`),
or a lost reply in every N (:attr:`~SwitchableFaults.drop_every`).
"""

from __future__ import annotations

import threading

__all__ = ["SwitchableFaults"]


class SwitchableFaults:
    """A :class:`rig.sim.backend.ServerFaults` whose faults a test switches on and off (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Kinds active until removed, with their magnitude (0.0 when the kind has none).
        self.kinds: dict[str, float] = {}
        #: When N > 0: every N-th ask of "timeout" is active, i.e. one request or reply in N is lost.
        self.drop_every = 0
        self._drop_count = 0
        # kind -> (asks still to let pass, asks then to be active for)
        self._once: dict[str, tuple[int, int]] = {}

    def set(self, kind: str, magnitude: float = 0.0) -> None:
        """Make ``kind`` active (with ``magnitude``: seconds for "latency") until :meth:`clear`."""
        with self._lock:
            self.kinds[kind] = magnitude

    def clear(self, kind: str | None = None) -> None:
        """Switch ``kind`` off (every kind and every one-shot when None)."""
        with self._lock:
            if kind is None:
                self.kinds.clear()
                self._once.clear()
                self.drop_every = 0
            else:
                self.kinds.pop(kind, None)
                self._once.pop(kind, None)

    def once(self, kind: str, count: int = 1, after: int = 0) -> None:
        """Make ``kind`` active for ``count`` asks only, once ``after`` asks have passed.

        ``once("garbled")``: the next reply is garbled; ``once("garbled", after=1)``: the one after.
        """
        with self._lock:
            self._once[kind] = (after, count)

    def active(self, kind: str, channel: int | None = None) -> float | None:
        """The magnitude of ``kind`` if it is active at this ask, else None (the server's question)."""
        with self._lock:
            if kind == "timeout" and self.drop_every:
                self._drop_count += 1
                if self._drop_count % self.drop_every == 0:
                    return 0.0
            after, count = self._once.get(kind, (0, 0))
            if after:
                self._once[kind] = (after - 1, count)
            elif count:
                self._once[kind] = (0, count - 1)
                return 0.0
            return self.kinds.get(kind)
