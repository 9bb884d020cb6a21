"""One controller per bench: an OS lock on each of its instruments, held for as long as a run lasts.

Two controllers on one bench would move the same valves, so a run (and a probe) takes an
exclusive ``flock`` on one lock file per VISA resource it will open, before it opens any,
and keeps it until its command returns: the safe state and the record's seal included. The
lock is the kernel's, so it dies with its process (a ``kill -9`` or a crash frees the bench
at once); the file only says who holds it (pid, command, run id, since when), for the
refusal a second controller prints. A lock file left by a dead process blocks nothing: the
next holder takes it and overwrites what it says.

Keyed by resource, not by bench file: the hardware is what must not be driven twice, and two
bench files (or one renamed) naming the same gauge controller reach the same instrument. A
simulated bench's resources are the ports its own process bound, so it locks only itself;
two ``--sim`` runs of one bench file never meet.

Where: ``$LEAKRIG_LOCK_DIR``, else ``/tmp/leakrig-<uid>/locks``. Not the data directory
(``--data-dir`` differs between runs and ``rig instruments probe`` has none) and not
``$XDG_RUNTIME_DIR`` or ``$TMPDIR`` (set in a login shell, unset under cron or a service): two
``rig`` processes of one user always agree on it. Sites where several accounts share a bench
point ``LEAKRIG_LOCK_DIR`` at one directory they can all write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rig.errors import InputError

LOCK_DIR_ENV = "LEAKRIG_LOCK_DIR"

# Opening a lock file while its holder removes it (at its release) yields a file nobody else
# will find: the attempt is made again. More than a few in a row means something is wrong.
_ATTEMPTS = 16


class BenchBusyError(InputError):
    """Another process holds an instrument of the bench (the message names it)."""


def lock_dir() -> Path:
    """The directory of the lock files (see the module's docstring for why there)."""
    configured = os.environ.get(LOCK_DIR_ENV)
    if configured:
        return Path(configured)
    # /tmp itself, not tempfile.gettempdir(): $TMPDIR differs between a user's sessions.
    return Path("/tmp") / f"leakrig-{os.getuid()}" / "locks"


def resource_key(resource: str) -> str:
    """``resource`` as VISA compares names: case-insensitive, board 0 implied (``TCPIP0`` is ``TCPIP``)."""
    name = resource.strip().upper()
    return re.sub(r"^(TCPIP|GPIB|USB|VXI|PXI)0::", r"\1::", name)


def lock_path(resource: str, directory: Path | None = None) -> Path:
    """The lock file of the instrument at VISA ``resource``."""
    digest = hashlib.sha256(resource_key(resource).encode("utf-8")).hexdigest()[:24]
    return (directory or lock_dir()) / f"{digest}.lock"


class BenchLock:
    """The locks of one bench's instruments, held by this process (see :func:`hold_bench`)."""

    def __init__(self, bench: str, holder: dict[str, Any]) -> None:
        self.bench = bench
        self.holder = holder
        self._held: dict[str, tuple[int, str]] = {}  # lock file path → its descriptor, its resource

    def add(self, path: Path, fd: int, resource: str) -> None:
        """Keep the lock ``fd`` has on ``path`` (the instrument at ``resource``), and say who holds it."""
        self._held[str(path)] = (fd, resource)
        _write_holder(fd, {**self.holder, "resource": resource})

    def name_run(self, run_id: str) -> None:
        """Say in every lock file which run holds the bench (once its record has an id)."""
        self.holder = {**self.holder, "run_id": run_id}
        for fd, resource in self._held.values():
            _write_holder(fd, {**self.holder, "resource": resource})

    def release(self) -> None:
        """Remove the lock files and free the locks (removed first: no one finds a freed, stale file)."""
        for path, (fd, _) in self._held.items():
            with contextlib.suppress(OSError):
                os.unlink(path)
            os.close(fd)
        self._held = {}


@contextlib.contextmanager
def hold_bench(bench: str, resources: Iterable[str], command: str) -> Iterator[BenchLock]:
    """Lock every instrument at ``resources`` for ``command`` on ``bench``, or refuse at once.

    Raises :class:`BenchBusyError` naming the holder (pid, command, run id, since when) when another
    process holds one of them; nothing is held then. Released when the block ends.
    """
    directory = _lock_directory()
    holder: dict[str, Any] = {
        "pid": os.getpid(),
        "command": command,
        "bench": bench,
        "run_id": None,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    lock = BenchLock(bench, holder)
    try:
        for resource in sorted({resource_key(r): r for r in resources}.values()):
            path = lock_path(resource, directory)
            fd, other = _take(path)
            if fd is None:
                raise BenchBusyError(_busy_message(bench, resource, other))
            lock.add(path, fd, resource)
        yield lock
    finally:
        lock.release()


def _lock_directory() -> Path:
    directory = lock_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise InputError(f"lock directory {directory}: {exc.strerror or exc}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"lock directory {directory} is not a directory")
    if info.st_uid != os.getuid() and LOCK_DIR_ENV not in os.environ:
        # Another user's directory in /tmp could hold (or fake) every lock of ours.
        raise InputError(f"lock directory {directory} belongs to another user; set {LOCK_DIR_ENV}")
    return directory


def _take(path: Path) -> tuple[int | None, dict[str, Any] | None]:
    """The locked descriptor of ``path``, or (None, what its holder wrote) when it is held."""
    for _ in range(_ATTEMPTS):
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            other = _read_holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None, other
            raise
        # The holder before us may have removed this file (its release) as we opened it: a lock
        # on a removed file guards nothing, so take the one now at the path.
        try:
            now = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        mine = os.fstat(fd)
        if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            return fd, None
        os.close(fd)
    return None, None


def _open(path: Path) -> int:
    flags = os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        # Readable by all (who holds a bench is no secret); writable as the umask allows.
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o666)
    except PermissionError:
        # Another account's file in a shared LEAKRIG_LOCK_DIR: flock needs no write access, so the
        # lock still holds; only what it says cannot be ours.
        return os.open(path, os.O_RDONLY | flags)


def _write_holder(fd: int, holder: dict[str, Any]) -> None:
    data = (json.dumps(holder) + "\n").encode("utf-8")
    # What the file says is a courtesy to the next controller; the lock is the kernel's and holds
    # whether or not this is written (a read-only file, a full /tmp).
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return None  # being written at this instant, or not ours: the refusal says less
    return data if isinstance(data, dict) else None


def _busy_message(bench: str, resource: str, holder: dict[str, Any] | None) -> str:
    pid = None if holder is None else holder.get("pid")
    if holder is None or not isinstance(pid, int):
        who = "another process (its lock file does not say which yet)"
    elif not _alive(pid):
        # The lock is held (the kernel says so), but not by the process the file names.
        who = f"another process (its lock file still names pid {pid}, which has ended)"
    else:
        run_id = holder.get("run_id")
        what = ", ".join(
            [
                str(holder.get("command", "rig")),
                *([f"run {run_id}"] if run_id else []),
                f"bench {holder.get('bench')!r}",
            ]
        )
        who = f"pid {pid} since {holder.get('since')} ({what})"
    return (
        f"bench {bench!r} is busy: its instrument at {resource} is held by {who}; "
        "one controller per bench: wait until it ends, or stop it"
    )


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False  # 0 and below name process groups
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OverflowError:
        return False
    return True
