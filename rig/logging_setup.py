"""Python logging for one ``rig`` command: ``-v``/``--log-file`` and the config's ``log_level``.

stderr shows warnings and worse by default, info with ``-v``, debug with ``-vv``; a log file
(``--log-file`` or the config's ``log_file``) gets everything from debug up, timestamped,
appended. pyvisa's own chatter (a line per byte read) stays out below ``-vvv``: at a sample
a second it would bury what the rig says.

The one-line error policy holds: the line a failed command ends with is printed by
:mod:`rig.cli` and goes to a log file too, but not a second time to stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rig.engine.observer import StepProgress

# Loggers whose debug output is per transaction, kept at INFO below this many -v.
NOISY = ("pyvisa", "pyvisa_py")
NOISY_VERBOSITY = 3
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A record logged with extra={FILE_ONLY: True} skips stderr (it is already there, as the final line).
FILE_ONLY = "file_only"

log = logging.getLogger("rig")


def stderr_level(verbosity: int, config_level: str | None) -> int:
    """The level stderr shows: ``-v`` counts win over the config's ``log_level`` (default warning)."""
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return logging.INFO
    return LEVELS.get(config_level or "warning", logging.WARNING)


class _NotFileOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, FILE_ONLY, False)


@contextmanager
def logging_to(verbosity: int, log_file: str | None, config_level: str | None) -> Iterator[None]:
    """Route logging to stderr (and ``log_file``) for the block, then put the root logger back.

    A log file that cannot be opened raises :class:`OSError` (the caller's one line, exit 2).
    """
    root = logging.getLogger()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(stderr_level(verbosity, config_level))
    console.setFormatter(logging.Formatter("rig: %(levelname)s: %(name)s: %(message)s"))
    console.addFilter(_NotFileOnly())
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        Path(log_file).expanduser().parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(Path(log_file).expanduser(), encoding="utf-8")
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(file_handler)
    saved_level = root.level
    saved_noisy = {name: logging.getLogger(name).level for name in NOISY}
    root.setLevel(min(handler.level for handler in handlers))
    if verbosity < NOISY_VERBOSITY:
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved_level)
        for name, level in saved_noisy.items():
            logging.getLogger(name).setLevel(level)


class LoggingObserver:
    """A run's steps and events as log messages (a :class:`rig.engine.observer.RunObserver`)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("rig.run")

    def step_started(self, progress: StepProgress) -> None:
        """Log the step at DEBUG (the run's own ``step`` event says it at INFO)."""
        self._log.debug("step %d/%d: %s (%s)", progress.index, progress.total, progress.name, progress.kind)

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Log the sample at DEBUG (the file keeps it; stderr only with -vv)."""
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug("sample t=%.3f s %s", t_s, values)

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """Nothing: the live estimate changes every sample, the record keeps the result."""

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Log the event at INFO (the live view shows it already: stderr repeats it only with -v)."""
        self._log.info("t=%.1f s %s: %s", t_s, kind, message)

    def finished(self, outcome: Any) -> None:
        """Log the verdict at INFO."""
        self._log.info(
            "finished: %s (%s)", getattr(outcome.verdict, "value", outcome.verdict), outcome.reason
        )
