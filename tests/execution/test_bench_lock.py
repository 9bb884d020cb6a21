"""The bench lock in one process: what it holds, what it says, what it leaves behind.

``flock`` locks belong to an open file, not to a process, so a second :func:`hold_bench` in
this process contends with the first exactly as a second ``rig`` would (the CLI tests do that).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rig.errors import InputError
from rig.execution.bench_lock import (
    LOCK_DIR_ENV,
    BenchBusyError,
    hold_bench,
    lock_dir,
    lock_path,
    resource_key,
)

GAUGES = "TCPIP::127.0.0.1::5025::SOCKET"
DAQ = "TCPIP::127.0.0.1::5026::SOCKET"


@pytest.fixture(autouse=True)
def locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "locks"))
    return tmp_path / "locks"


def test_a_held_bench_refuses_a_second_holder_naming_the_first(locks: Path) -> None:
    with hold_bench("bench_a", [GAUGES, DAQ], "rig run") as lock:
        lock.name_run("20261206-000000-abcdef")
        held = json.loads(lock_path(GAUGES).read_text())
        assert held["pid"] == os.getpid() and held["run_id"] == "20261206-000000-abcdef"
        assert held["command"] == "rig run" and held["resource"] == GAUGES and held["since"]
        with pytest.raises(BenchBusyError) as refused, hold_bench("bench_a", [DAQ], "rig instruments probe"):
            pass
        message = str(refused.value)
        assert "busy" in message and f"pid {os.getpid()}" in message
        assert "run 20261206-000000-abcdef" in message and held["since"] in message and DAQ in message
        assert "\n" not in message
        assert isinstance(refused.value, InputError)  # the command line's one line and exit 2
    # Released: the files are gone and the bench is free.
    assert list(locks.iterdir()) == []
    with hold_bench("bench_a", [GAUGES, DAQ], "rig run"):
        pass


def test_another_bench_file_naming_the_same_instrument_is_the_same_hardware() -> None:
    with (
        hold_bench("bench_a", [GAUGES], "rig run"),
        pytest.raises(BenchBusyError, match="bench 'renamed' is busy"),
        hold_bench("renamed", ["tcpip0::127.0.0.1::5025::socket"], "rig run"),
    ):
        pass
    assert resource_key(" tcpip0::h::1::socket ") == resource_key("TCPIP::H::1::SOCKET")
    assert resource_key("ASRL1::INSTR") != resource_key("ASRL::INSTR")  # ASRL's number is the port


def test_a_refused_holder_keeps_nothing(locks: Path) -> None:
    with hold_bench("bench_a", [DAQ], "rig run"):
        # GAUGES sorts first: it is taken, then given back when DAQ is refused.
        with pytest.raises(BenchBusyError), hold_bench("bench_b", [GAUGES, DAQ], "rig run"):
            pass
        assert not lock_path(GAUGES).exists()
        with hold_bench("bench_c", [GAUGES], "rig run"):
            pass


def test_a_file_left_by_a_dead_holder_does_not_block_and_is_overwritten(locks: Path) -> None:
    locks.mkdir()
    stale = lock_path(GAUGES)
    stale.write_text(json.dumps({"pid": 999999, "command": "rig run", "run_id": "old"}) + "garbage")
    with hold_bench("bench_a", [GAUGES], "rig run"):
        held = json.loads(stale.read_text())
        assert held["pid"] == os.getpid() and held["run_id"] is None


def test_a_holder_that_has_not_written_yet_is_still_refused(locks: Path) -> None:
    with hold_bench("bench_a", [GAUGES], "rig run"):
        lock_path(GAUGES).write_text("")  # as between a holder's lock and its first write
        with pytest.raises(BenchBusyError, match=r"busy.*another process"), hold_bench("b", [GAUGES], "x"):
            pass


def test_a_file_naming_a_process_that_has_ended_does_not_name_it_as_the_holder(locks: Path) -> None:
    with hold_bench("bench_a", [GAUGES], "rig run"):
        lock_path(GAUGES).write_text(json.dumps({"pid": 2**22 + 12345, "command": "rig run"}))
        ended = r"busy.*still names pid 4206649, which has ended"  # above any Linux pid_max (2**22)
        with pytest.raises(BenchBusyError, match=ended), hold_bench("b", [GAUGES], "x"):
            pass


def test_the_default_place_is_the_users_own_and_not_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_DIR_ENV)
    monkeypatch.setenv("TMPDIR", "/somewhere/else")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert lock_dir() == Path(f"/tmp/leakrig-{os.getuid()}/locks")


def test_a_lock_directory_that_cannot_be_made_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "file" / "locks"))
    with pytest.raises(InputError, match="lock directory"), hold_bench("b", [GAUGES], "rig run"):
        pass
