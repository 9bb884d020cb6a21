"""Before signing: the signing key must be the user's alone, the directories writable.

Real files, modes and owners. The tests run as root in CI, and root writes through any mode,
so "cannot be created" is made with a path under a regular file, which nobody can create; the
ownership and mode checks read ``os.stat`` and hold for root too; the cases that need a plain
user are skipped as root.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rig.errors import InputError
from rig.record.integrity import KEY_FILE, load_or_create_key
from rig.record.preflight import check_ready_to_sign, check_writable_dir, signing_key_problem
from rig.record.trust import load_trust_store

AS_ROOT = os.geteuid() == 0
NOBODY = 65534  # an owner other than us; only root can give a file away


def test_a_safe_key_passes_and_is_created_private(key_dir: Path) -> None:
    assert signing_key_problem(key_dir) is None  # nothing there yet: it will be created privately
    check_ready_to_sign()
    pem = key_dir / KEY_FILE
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600 and stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    key_dir.chmod(0o1777)  # sticky, like /tmp: nobody else can replace our file
    check_ready_to_sign()
    key_dir.chmod(0o755)
    check_ready_to_sign()


@pytest.mark.parametrize(
    ("dir_mode", "key_mode", "complaint"),
    [
        (0o700, 0o666, "signing_key.pem: group or others can read or write it (mode 0666)"),
        (0o700, 0o620, "signing_key.pem: group or others can read or write it (mode 0620)"),
        (0o700, 0o604, "signing_key.pem: group or others can read or write it (mode 0604)"),
        (0o777, 0o600, "keys: group or others can write it (mode 0777)"),
        (0o770, 0o600, "keys: group or others can write it (mode 0770)"),
    ],
)
def test_a_key_others_could_write_or_read_is_refused(
    key_dir: Path, dir_mode: int, key_mode: int, complaint: str
) -> None:
    load_or_create_key()
    pem = key_dir / KEY_FILE
    before = pem.read_bytes()
    pem.chmod(key_mode)
    key_dir.chmod(dir_mode)
    with pytest.raises(InputError, match=r"^refused to sign with this key: .*") as refused:
        check_ready_to_sign()
    assert complaint in str(refused.value) and "\n" not in str(refused.value)
    assert pem.read_bytes() == before and stat.S_IMODE(pem.stat().st_mode) == key_mode  # left alone
    # Nor is it this rig's key when verifying.
    store = load_trust_store()
    assert store.own is None and complaint in store.problems[0]


def test_a_symlinked_key_is_refused(key_dir: Path, tmp_path: Path) -> None:
    load_or_create_key(tmp_path / "elsewhere")
    key_dir.mkdir(mode=0o700)
    (key_dir / KEY_FILE).symlink_to(tmp_path / "elsewhere" / KEY_FILE)
    with pytest.raises(InputError, match="a symlink"):
        check_ready_to_sign()


@pytest.mark.skipif(not AS_ROOT, reason="giving a file to another user takes root")
@pytest.mark.parametrize("whose", ["key", "directory"])
def test_a_key_or_key_directory_of_another_user_is_refused(key_dir: Path, whose: str) -> None:
    load_or_create_key()
    os.chown(key_dir / KEY_FILE if whose == "key" else key_dir, NOBODY, NOBODY)
    with pytest.raises(InputError, match=r"owned by .*not by you"):
        check_ready_to_sign()


def test_a_key_directory_that_cannot_be_created_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write anywhere, but not under a regular file: the refusal holds for every user.
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("LEAKRIG_KEY_DIR", str(tmp_path / "a_file" / "keys"))
    with pytest.raises(InputError, match=r"a_file/keys: cannot create the key directory: Not a directory"):
        check_ready_to_sign()


def test_a_corrupt_key_is_refused_before_signing(key_dir: Path) -> None:
    key_dir.mkdir(mode=0o700)
    (key_dir / KEY_FILE).write_text("not a key\n")
    (key_dir / KEY_FILE).chmod(0o600)
    with pytest.raises(InputError, match="not a readable unencrypted PEM private key"):
        check_ready_to_sign()


def test_check_writable_dir(tmp_path: Path) -> None:
    check_writable_dir(tmp_path / "new" / "data", "data directory")
    assert (tmp_path / "new" / "data").is_dir() and not list((tmp_path / "new" / "data").iterdir())
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InputError, match=r"a_file: the data directory is not a directory"):
        check_writable_dir(tmp_path / "a_file", "data directory")
    with pytest.raises(InputError, match=r"a_file/data: cannot create the data directory: Not a directory"):
        check_writable_dir(tmp_path / "a_file" / "data", "data directory")


@pytest.mark.skipif(AS_ROOT, reason="root writes through any mode; the cases above hold for root")
def test_check_writable_dir_as_a_plain_user(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match="the data directory is not writable"):
        check_writable_dir(locked, "data directory")
    with pytest.raises(InputError, match="cannot create the data directory"):
        check_writable_dir(locked / "data", "data directory")


@pytest.mark.skipif(AS_ROOT, reason="root writes through any mode; the parent-is-a-file case holds for root")
def test_a_key_directory_a_plain_user_cannot_write_in_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "keys"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match=r"signing_key\.pem: cannot create the signing key: Permission"):
        check_ready_to_sign(locked)
    locked.chmod(0o700)
    check_ready_to_sign(locked)
    locked.chmod(0o500)  # the key and its public half in place: sealing writes nothing there
    check_ready_to_sign(locked)
