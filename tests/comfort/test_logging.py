"""``-v``/``--verbose`` and ``--log-file``: Python logging, and the one-line error policy kept."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from rig.cli import main
from rig.config import CONFIG_HOME_ENV
from rig.logging_setup import stderr_level

ROOT = Path(__file__).resolve().parents[2]
DECAY = ROOT / "procedures" / "pressure_decay.yaml"


def test_the_stderr_level_counts_v_over_the_config() -> None:
    assert stderr_level(0, None) == logging.WARNING
    assert stderr_level(0, "error") == logging.ERROR
    assert stderr_level(1, "error") == logging.INFO
    assert stderr_level(2, None) == logging.DEBUG
    assert stderr_level(5, "warning") == logging.DEBUG


@pytest.mark.integration
def test_a_run_logs_its_events_by_verbosity_and_all_of_it_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, log_file = tmp_path / "data", tmp_path / "logs" / "rig.log"
    argv = ["run", str(DECAY), "--sim", "--data-dir", str(data), "--json"]
    handlers_before, level_before = list(logging.getLogger().handlers), logging.getLogger().level
    assert main(argv) == 0
    quiet = capsys.readouterr().err
    assert "rig: INFO" not in quiet and "rig: DEBUG" not in quiet

    assert main(["-v", *argv, "--log-file", str(log_file)]) == 0
    out, err = capsys.readouterr()
    verdict = json.loads(out.strip().splitlines()[-1])["verdict"]
    assert verdict == "PASS"
    assert "rig: INFO: rig.run: " in err and "rig: DEBUG" not in err
    logged = log_file.read_text()
    assert " DEBUG rig.run: sample t=" in logged  # the file gets debug whatever stderr shows
    assert " INFO rig.run: finished: PASS" in logged
    assert "pyvisa" not in logged  # a line per transaction, kept out below -vvv

    # After the subcommand too, and counted.
    assert main([*argv, "-vv"]) == 0
    assert "rig: DEBUG: rig.run: sample t=" in capsys.readouterr().err
    # The logging of one command does not outlive it.
    assert logging.getLogger().handlers == handlers_before
    assert logging.getLogger().level == level_before


def test_an_error_stays_one_line_on_stderr_and_reaches_the_file_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, log_file = tmp_path / "data", tmp_path / "rig.log"
    argv = ["-vv", "--log-file", str(log_file), "run", str(DECAY), "--sim", "--seed", "-1"]
    assert main([*argv, "--data-dir", str(data)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["rig run: error: --seed must be a whole number from 0 to 2**32 - 1, got -1"]
    logged = log_file.read_text()
    assert " ERROR rig: --seed must be a whole number" in logged and "Traceback" in logged
    assert not data.exists()


def test_a_log_file_that_cannot_be_opened_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--log-file", str(blocker / "rig.log"), "runs", "--data-dir", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rig runs: error: {blocker}"), lines


def test_the_config_sets_the_level_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "leakrig").mkdir()
    (tmp_path / "leakrig" / "config.toml").write_text('log_level = "debug"\nlog_file = "rig.log"\n')
    monkeypatch.setenv(CONFIG_HOME_ENV, str(tmp_path))
    assert main(["runs", "--data-dir", str(tmp_path / "data")]) == 0
    err = capsys.readouterr().err
    assert f"rig: DEBUG: rig: configuration read from {tmp_path / 'leakrig' / 'config.toml'}" in err
    assert "configuration read from" in (tmp_path / "leakrig" / "rig.log").read_text()
