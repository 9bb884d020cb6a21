"""Time as a dependency: one Clock interface for the controller and the simulator.

A wall clock for benches, a virtual clock that only moves when told (so a 24-hour hold
runs in seconds and a run is reproducible from its seed), and a scaled clock that runs
virtual time at a multiple of real time for people watching a simulation.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Where every timestamp and every wait comes from."""

    def now(self) -> float:
        """Seconds since the clock's epoch (monotonic)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (returns at once for zero or less)."""
        ...

    def wake(self) -> None:
        """End a sleep in progress early (a stop request must not wait out a long sample period).

        Safe to call from a signal handler; a clock that never really waits ignores it.
        """
        ...


class _Sleeper:
    """A real wait that :meth:`wake` ends early, even from a signal handler in the waiting thread."""

    def __init__(self) -> None:
        self._woken = threading.Event()

    def wait(self, seconds: float) -> None:
        if seconds > 0.0:
            self._woken.wait(seconds)
        self._woken.clear()

    def wake(self) -> None:
        self._woken.set()


class WallClock:
    """Real time: monotonic seconds since the clock was made."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._sleeper = _Sleeper()

    def now(self) -> float:
        """Seconds since construction."""
        return time.monotonic() - self._start

    def sleep(self, seconds: float) -> None:
        """Sleep for real (until :meth:`wake`)."""
        self._sleeper.wait(seconds)

    def wake(self) -> None:
        """End the current sleep early."""
        self._sleeper.wake()


class VirtualClock:
    """Simulation time that advances only through :meth:`sleep` or :meth:`advance`.

    Thread-safe: simulated instruments read :meth:`now` from their own threads while the
    controller advances it. Sleeping returns immediately after moving time forward.
    """

    def __init__(self, start_s: float = 0.0) -> None:
        self._t = float(start_s)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current simulation time in s."""
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (negative is an error); return the new time."""
        if seconds < 0.0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        with self._lock:
            self._t += seconds
            return self._t

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` without waiting (nothing for zero or less)."""
        if seconds > 0.0:
            self.advance(seconds)

    def wake(self) -> None:
        """Nothing to end: a virtual sleep never waits."""


class ScaledClock:
    """Virtual time running ``speed`` times faster than real time (for ``--speed``)."""

    def __init__(self, speed: float, start_s: float = 0.0) -> None:
        if not speed > 0.0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = float(speed)
        self._start_s = float(start_s)
        self._wall0 = time.monotonic()
        self._sleeper = _Sleeper()

    def now(self) -> float:
        """Simulation time: start + speed × real seconds elapsed."""
        return self._start_s + self.speed * (time.monotonic() - self._wall0)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulation time, i.e. seconds / speed of real time (until :meth:`wake`)."""
        self._sleeper.wait(seconds / self.speed)

    def wake(self) -> None:
        """End the current sleep early."""
        self._sleeper.wake()
