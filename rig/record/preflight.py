"""Before signing: a signing key that is this user's alone, and directories that can be written.

A key that somebody else could have put in place proves nothing, so ownership and modes are
read with ``os.stat``, never found out by trying a write, which root always gets away with.
The signing key must be a regular file (not a symlink) owned by the user that group and
others can neither read nor write, in a directory the user owns and that group and others
cannot write unless it is sticky. "Cannot be written" is tested for real instead: a directory
is created and a temporary file made in it, which also catches a read-only file system.

``rig run`` calls :func:`check_ready_to_sign` and :func:`check_writable_dir` right after the
procedure is read, and ``rig report`` the first before it writes, so that a fault here costs no
test: the run is sealed only at its end.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from rig.errors import InputError
from rig.record.integrity import KEY_FILE, default_key_dir, load_or_create_key


def euid() -> int:
    """The effective user id (-1 where there is none to check, on Windows)."""
    if sys.platform == "win32":  # pragma: no cover - no POSIX ownership to check there
        return -1
    return os.geteuid()


def _owner_name(uid: int) -> str:
    if sys.platform == "win32":  # pragma: no cover
        return str(uid)
    import pwd

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def unsafe_dir(path: Path, st: os.stat_result, owners: frozenset[int]) -> str | None:
    """Why the directory ``path`` (its ``os.stat`` is ``st``) could hold anybody's keys, or None.

    It must be a directory owned by one of ``owners`` that group and others cannot write, unless
    it is sticky (others may then add files, but not replace or remove ours).
    """
    if sys.platform == "win32":  # pragma: no cover
        return None
    if not stat.S_ISDIR(st.st_mode):
        return f"{path}: not a directory"
    if st.st_uid not in owners:
        return f"{path}: owned by {_owner_name(st.st_uid)}, not by you, so it could hold anybody's keys"
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 and not mode & stat.S_ISVTX:
        return (
            f"{path}: group or others can write it (mode {mode:04o}), so anybody could put a key there;"
            f" chmod go-w {path}"
        )
    return None


def unsafe_file(path: Path, st: os.stat_result, owners: frozenset[int], private: bool) -> str | None:
    """Why the key file ``path`` (its ``os.stat`` is ``st``) could be anybody's key, or None.

    It must be owned by one of ``owners``, and group and others must not write it, nor read it
    if it is ``private`` (a signing key others can read lets them sign as this rig).
    """
    if sys.platform == "win32":  # pragma: no cover
        return None
    if st.st_uid not in owners:
        return f"{path}: owned by {_owner_name(st.st_uid)}, not by you, so it could be anybody's key"
    mode = stat.S_IMODE(st.st_mode)
    if private and mode & 0o077:
        return f"{path}: group or others can read or write it (mode {mode:04o}); chmod 600 {path}"
    if mode & 0o022:
        return f"{path}: group or others can write it (mode {mode:04o}); chmod go-w {path}"
    return None


def signing_key_problem(key_dir: Path | None = None) -> str | None:
    """Why the signing key in ``key_dir`` might not be the user's alone, or None. Reads only.

    The key file must be a regular file (not a symlink) owned by the user, that group and
    others can neither write (they could swap in their key) nor read (they could sign as this
    rig); its directory must be owned by the user and not writable by group or others unless
    sticky (else the key could be replaced). A missing directory or key file is no problem:
    :func:`~rig.record.integrity.load_or_create_key` creates them privately.
    """
    key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
    try:
        dir_st = os.stat(key_dir)
    except (FileNotFoundError, NotADirectoryError):  # creating it will say why it cannot be
        return None
    except OSError as exc:
        return f"{key_dir}: cannot read the key directory: {exc.strerror or exc}"
    unsafe = unsafe_dir(key_dir, dir_st, owners=frozenset({euid()}))
    if unsafe is not None:
        return unsafe
    key_path = key_dir / KEY_FILE
    try:
        st = os.lstat(key_path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{key_path}: cannot read: {exc.strerror or exc}"
    if stat.S_ISLNK(st.st_mode):
        return f"{key_path}: a symlink; the signing key must be a file of its own"
    if not stat.S_ISREG(st.st_mode):
        return f"{key_path}: not a regular file"
    return unsafe_file(key_path, st, owners=frozenset({euid()}), private=True)


def check_ready_to_sign(key_dir: Path | None = None) -> None:
    """Refuse (:class:`InputError`) to go on unless this rig can sign with a key that is its own.

    Called before a run starts and before a certificate is written, so that a key somebody
    else could have written (:func:`signing_key_problem`), a key directory where the key cannot
    be created, or a key that cannot be read shows before anything moves, not when the run is
    sealed at its end. The key is created now if it is missing (as the seal would have done); a
    directory that already holds the key and its public half may be read-only, since sealing
    then writes nothing there.
    """
    key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
    _refuse_unsafe_key(key_dir)
    load_or_create_key(key_dir)
    # Again: a directory or key that did not exist a moment ago may have been somebody else's.
    _refuse_unsafe_key(key_dir)


def _refuse_unsafe_key(key_dir: Path) -> None:
    unsafe = signing_key_problem(key_dir)
    if unsafe is not None:
        raise InputError(f"refused to sign with this key: {unsafe}")


def check_writable_dir(path: Path, what: str) -> None:
    """Refuse (:class:`InputError`) a directory that cannot be created or written; create it if missing.

    Permission bits say nothing about root, or about a read-only file system, so the test is
    real: the directory is created (as it would be anyway) and a temporary file is made in it
    and removed. ``what`` names it in the message (``"data directory"``).
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{path}: the {what} is not a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot create the {what}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise InputError(f"{path}: the {what} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{path}: the {what} is not writable")
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot write in the {what}: {exc.strerror or exc}") from None
