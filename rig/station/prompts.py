"""Operator prompts at the station: answered in the page, or at the station's terminal, whichever first.

The runner calls the broker (it is the run's ``answer``) from its own thread and waits; the page
answers through the station's API from the server's thread, the terminal through a reader
thread. A stop request while the run waits interrupts the wait (``interrupt``), and the broker
then raises KeyboardInterrupt in the runner's thread, as Ctrl-C does at ``rig run``'s prompt.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from rig.station.feed import RunFeed
from rig.steps.context import Answer


@dataclass
class _Open:
    """A prompt waiting for its answer."""

    prompt_id: int
    message: str
    answered: threading.Event
    answer: Answer | None = None


class PromptBroker:
    """The run's ``answer``: posts the prompt to the run's feed and waits for the page or the terminal.

    ``operator`` is who answers at the terminal (the station's operator); ``terminal`` (None: no
    terminal) is where the prompt is also shown, answered by :meth:`terminal_line`.
    """

    def __init__(self, operator: str, terminal: TextIO | None = None) -> None:
        self.operator = operator
        self.terminal = terminal
        self.feed: RunFeed | None = None  # the run now going (the station sets it)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: _Open | None = None
        self._interrupted = False

    @property
    def pending(self) -> tuple[int, str] | None:
        """The prompt waiting now (its id and message), if any."""
        current = self._open
        return None if current is None else (current.prompt_id, current.message)

    def __call__(self, message: str) -> Answer:
        """Ask ``message`` and wait for the answer (the runner's thread)."""
        with self._lock:
            if self._interrupted:
                self._interrupted = False
                raise KeyboardInterrupt
            current = _Open(next(self._ids), message, threading.Event())
            self._open = current
        feed = self.feed
        if feed is not None:
            feed.prompt_opened(current.prompt_id, message)
        self._show(f"prompt: {message}\n  answer y or n here, or in the station's page: ")
        current.answered.wait()
        with self._lock:
            self._open = None
            interrupted, self._interrupted = self._interrupted, False
        answer = current.answer
        if feed is not None:
            feed.prompt_closed(current.prompt_id, None if answer is None else answer.record())
        if interrupted or answer is None:
            raise KeyboardInterrupt
        return answer

    def answer(self, prompt_id: int, yes: bool, by: str, origin: str) -> bool:
        """Answer the prompt ``prompt_id``; False when it is not the one waiting (answered, or none)."""
        with self._lock:
            current = self._open
            if current is None or current.prompt_id != prompt_id or current.answered.is_set():
                return False
            current.answer = Answer.now(yes, by, origin)
            current.answered.set()
        if origin != "terminal":
            self._show(f"answered {'yes' if yes else 'no'} by {by} from {origin}\n")
        return True

    def interrupt(self) -> None:
        """End the wait for an answer: the run is being stopped (called by the runner's request_stop)."""
        with self._lock:
            self._interrupted = True
            current = self._open
            if current is not None:
                current.answered.set()

    def reset(self) -> None:
        """Forget an interrupt left over from a run that ended before it was asked anything."""
        with self._lock:
            self._interrupted = False

    def terminal_line(self, line: str) -> None:
        """A line typed at the station's terminal: the answer to the prompt waiting, if any."""
        current = self.pending
        if current is None:
            return
        word = line.strip().lower()
        if word in ("y", "yes", "n", "no"):
            self.answer(current[0], word.startswith("y"), self.operator, "terminal")
        else:
            self._show("  answer y or n: ")

    def _show(self, text: str) -> None:
        if self.terminal is None:
            return
        try:
            self.terminal.write(text)
            self.terminal.flush()
        except (OSError, ValueError):  # a closed terminal must not stop the run
            pass


def read_terminal(broker: PromptBroker, lines: Callable[[], str] = sys.stdin.readline) -> threading.Thread:
    """Start a daemon thread giving each line typed at the terminal to ``broker``."""

    def loop() -> None:
        while True:
            try:
                line = lines()
            except (OSError, ValueError):
                return
            if not line:  # end of input: the terminal is gone
                return
            broker.terminal_line(line)

    thread = threading.Thread(target=loop, name="station-terminal", daemon=True)
    thread.start()
    return thread
