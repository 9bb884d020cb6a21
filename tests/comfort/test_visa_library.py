"""Choosing the VISA backend: ``--visa-library``, a bench file's ``visa_library:``, the config file.

Over the real stack: pyvisa-py over loopback to the simulated mockup's servers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.transport import (
    DEFAULT_VISA_LIBRARY,
    VisaLibraryError,
    current_visa_library,
    load_visa_library,
    use_visa_library,
)
from rig.bench import load_bench
from rig.cli import main
from rig.config import CONFIG_HOME_ENV
from rig.located_yaml import LocatedError

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
DECAY = ROOT / "procedures" / "pressure_decay.yaml"


def bench_with(tmp_path: Path, line: str) -> Path:
    """The mockup, with ``line`` added at its top level."""
    path = tmp_path / "bench.yaml"
    path.write_text(MOCKUP.read_text() + f"\n{line}\n")
    return path


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_the_default_is_pyvisa_py_and_a_choice_lasts_only_its_block() -> None:
    assert current_visa_library() == DEFAULT_VISA_LIBRARY == "@py"
    with use_visa_library("@py") as manager:
        assert current_visa_library() == "@py"
        assert "py" in str(manager.visalib.library_path)
    assert current_visa_library() == "@py"


@pytest.mark.parametrize("library", ["@bogus", "/nonexistent/libvisa.so"])
def test_a_library_that_cannot_load_is_one_line(library: str) -> None:
    with pytest.raises(VisaLibraryError) as caught:
        load_visa_library(library)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"VISA library {library!r} cannot be loaded: ")
    with pytest.raises(VisaLibraryError), use_visa_library(library):
        pass
    assert current_visa_library() == "@py"  # a refused library leaves the choice as it was


@pytest.mark.integration
def test_an_explicit_py_probes_the_simulated_bench(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["instruments", "probe", "--bench", str(MOCKUP), "--sim", "--json", "--visa-library", "@py"])
    out = capsys.readouterr().out
    assert code == 0
    assert "TPG362" in json.loads(out)["gauges"]["identity"]


@pytest.mark.integration
def test_the_flag_wins_over_the_bench_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_with(tmp_path, 'visa_library: "@bogus"')
    assert load_bench(bench).visa_library == "@bogus"
    assert main(["--visa-library", "@py", "instruments", "probe", "--bench", str(bench), "--sim"]) == 0
    capsys.readouterr()
    assert main(["instruments", "probe", "--bench", str(bench), "--sim"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("rig instruments: error: VISA library '@bogus' cannot be loaded"), line


def test_a_bogus_library_refuses_a_run_before_anything_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(["run", str(DECAY), "--sim", "--data-dir", str(data), "--visa-library", "@bogus"])
    assert code == 2
    line = one_error_line(capsys)
    assert line.startswith("rig run: error: VISA library '@bogus' cannot be loaded: "), line
    assert not data.exists()


def test_the_config_file_names_the_library_when_nothing_else_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "leakrig").mkdir()
    (tmp_path / "leakrig" / "config.toml").write_text('visa_library = "@nothere"\n')
    monkeypatch.setenv(CONFIG_HOME_ENV, str(tmp_path))
    assert main(["instruments", "probe", "--bench", str(MOCKUP), "--sim"]) == 2
    assert "VISA library '@nothere' cannot be loaded" in one_error_line(capsys)


def test_a_bench_files_library_must_be_text(tmp_path: Path) -> None:
    bench = bench_with(tmp_path, "visa_library: 3")
    with pytest.raises(LocatedError) as caught:
        load_bench(bench)
    where = str(caught.value)
    assert where.startswith(f"{bench}:") and "expected text" in where
    line = len(bench.read_text().splitlines())
    assert f":{line}:" in where


def test_the_after_command_form_is_refused_where_no_instrument_is_opened(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["runs", "show", "x", "--visa-library", "@py"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --visa-library" in one_error_line(capsys)
