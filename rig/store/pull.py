"""Pulling a run record out of the lab store: its files written back byte for byte, checked first."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from rig.errors import InputError
from rig.store.connection import StoreError
from rig.store.snapshot import RefusedError, is_run_id, sha256, write_files

Connection = psycopg.Connection[Any]


def pull(conn: Connection, run_id: str, to_dir: Path) -> Path:
    """Write the record of ``run_id`` into ``to_dir/run_id`` (made whole, then renamed into place).

    :class:`InputError` when the store has no such run or the target exists (nothing is
    overwritten); :class:`StoreError` when a file's bytes in the store no longer match their SHA-256.
    """
    if not is_run_id(run_id):
        # The run id names the directory written: it must be one name inside DIR, never a path out of it.
        raise InputError(f"{run_id!r}: not a run id (`rig runs --store URL` lists them)")
    target = to_dir / run_id
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} already exists; it is not overwritten")
    rows = conn.execute(
        "SELECT path, sha256, content FROM files WHERE run_id = %s ORDER BY path", (run_id,)
    ).fetchall()
    if not rows:
        raise InputError(f"no run {run_id!r} in the lab store (`rig runs --store URL` lists them)")
    files: dict[str, bytes] = {}
    for path, digest, content in rows:
        data = bytes(content)
        if sha256(data) != digest:
            raise StoreError(f"run {run_id} in the lab store is damaged: {path} does not match its SHA-256")
        files[str(path)] = data
    to_dir.mkdir(parents=True, exist_ok=True)
    # Written whole into a private directory beside the target, then renamed: a pull cut short
    # leaves no half record under the run's name.
    partial = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=to_dir))
    try:
        write_files(files, partial)
        os.chmod(partial, 0o755)  # mkdtemp's 0700 would hide the record from its readers
        partial.rename(target)
    except RefusedError as exc:
        raise StoreError(f"run {run_id} in the lab store is damaged: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(partial)
    return target
