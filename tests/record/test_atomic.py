"""A whole-file write that fails part way leaves the old file whole and no temporary behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rig.record.atomic import write_atomically


def test_the_new_content_replaces_the_old_whole(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b'{"old": true}\n')
    write_atomically(target, b'{"new": true}\n')
    assert target.read_bytes() == b'{"new": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_write_interrupted_before_the_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk filling up (or the process dying) between writing and renaming: the edge is os.fsync.
    target = tmp_path / "results.json"
    target.write_bytes(b'{"old": true}\n')

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b'{"new": true, "padding": "' + b"x" * 100_000 + b'"}\n')
    assert target.read_bytes() == b'{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
