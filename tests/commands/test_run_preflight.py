"""``rig run`` refuses a signing key or data directory at fault before anything moves (exit 2).

Each refusal is checked with real files and modes. The tests run as root in CI, and root
writes through any mode, so "cannot be written" is made with a path under a regular file, which
nobody can create; the key checks read ownership and modes, which hold for root too.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from rig.cli import main
from rig.record.integrity import KEY_FILE, load_or_create_key

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = str(ROOT / "procedures" / "pressure_decay.yaml")
NOBODY = 65534


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    keys = tmp_path / "keys"
    monkeypatch.setenv("LEAKRIG_KEY_DIR", str(keys))
    load_or_create_key()
    return keys


def _refused(capsys: pytest.CaptureFixture[str], data_dir: Path, *expected: str) -> None:
    """``rig run --sim`` exits 2 with one line holding every expected piece; no run is recorded."""
    code = main(["run", PROCEDURE, "--sim", "--data-dir", str(data_dir), "--json"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("rig run: error: "), err
    for piece in expected:
        assert piece in err, err
    assert not (data_dir / "runs").exists() and not (data_dir / "runs.sqlite").exists()


def test_a_key_file_others_can_write_is_refused(
    key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = key_dir / KEY_FILE
    before = pem.read_bytes()
    pem.chmod(0o666)
    _refused(capsys, tmp_path / "data", f"{pem}: group or others can read or write it (mode 0666)")
    assert pem.read_bytes() == before and stat.S_IMODE(pem.stat().st_mode) == 0o666


def test_a_key_directory_others_can_write_is_refused(
    key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_dir.chmod(0o777)
    _refused(capsys, tmp_path / "data", f"{key_dir}: group or others can write it (mode 0777)")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user takes root")
def test_a_key_file_of_another_user_is_refused(
    key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chown(key_dir / KEY_FILE, NOBODY, NOBODY)
    _refused(capsys, tmp_path / "data", f"{key_dir / KEY_FILE}: owned by", "not by you")


def test_a_key_directory_where_no_key_can_be_created_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("LEAKRIG_KEY_DIR", str(tmp_path / "a_file" / "keys"))
    _refused(capsys, tmp_path / "data", "a_file/keys: cannot create the key directory")


@pytest.mark.usefixtures("key_dir")
def test_a_data_directory_that_cannot_be_written_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a_file").write_text("")
    _refused(capsys, tmp_path / "a_file" / "data", "a_file/data: cannot create the data directory")
    code = main(["run", PROCEDURE, "--sim", "--data-dir", str(tmp_path / "a_file")])
    assert code == 2 and "a_file: the data directory is not a directory" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME places the data directory on Linux")
@pytest.mark.usefixtures("key_dir")
def test_the_default_data_directory_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "a_file"))  # platformdirs' data dir on Linux
    assert main(["run", PROCEDURE, "--sim"]) == 2
    assert "a_file/leakrig: cannot create the data directory" in capsys.readouterr().err
