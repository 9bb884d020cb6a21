"""The user's config file (``$XDG_CONFIG_HOME/leakrig/config.toml``) and ``LEAKRIG_DATA_DIR``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.cli import main
from rig.config import CONFIG_HOME_ENV, DATA_DIR_ENV, Config, config_path, load_config
from rig.errors import InputError


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's config file (not written yet), found through ``$XDG_CONFIG_HOME``."""
    home = tmp_path / "config_home"
    monkeypatch.setenv(CONFIG_HOME_ENV, str(home))
    path = home / "leakrig" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def refusal(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one stderr line ``rig argv`` is refused with (exit 2)."""
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    return lines[0]


def test_the_config_file_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_HOME_ENV, str(tmp_path))
    assert config_path() == tmp_path / "leakrig" / "config.toml"
    monkeypatch.setenv(CONFIG_HOME_ENV, "relative/dir")  # invalid by the specification: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".config" / "leakrig" / "config.toml"
    monkeypatch.delenv(CONFIG_HOME_ENV)
    assert config_path() == tmp_path / "home" / ".config" / "leakrig" / "config.toml"


def test_no_file_is_an_empty_configuration(config_file: Path) -> None:
    assert load_config() == Config()


def test_every_key_is_read_and_paths_are_relative_to_the_file(config_file: Path) -> None:
    config_file.write_text(
        "# the bench upstairs\n"
        'bench = "benches/chamber.yaml"\n'
        'data_dir = "/srv/leakrig"\n'
        'operator = "A. Tester"\n'
        'visa_library = "@py"\n'
        'log_level = "INFO"\n'
        'log_file = "logs/rig.log"\n'
    )
    config = load_config()
    assert config == Config(
        source=str(config_file),
        bench=str(config_file.parent / "benches" / "chamber.yaml"),
        data_dir="/srv/leakrig",
        operator="A. Tester",
        visa_library="@py",
        log_level="info",
        log_file=str(config_file.parent / "logs" / "rig.log"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('operator = "x"\n\ncolour = "red"\n', ":3: unknown key 'colour' (expected one of: bench, "),
        ("data_dir = 3\n", ":1: data_dir must be a non-empty string, got the number 3"),
        ('operator = "x"\nlog_file = true\n', ":2: log_file must be a non-empty string, got a boolean"),
        ('operator = "  "\n', ":1: operator must be a non-empty string, got an empty string"),
        ('[visa_library]\nname = "@py"\n', ":1: visa_library must be a non-empty string, got a table"),
        ('log_level = "chatty"\n', ":1: log_level 'chatty' is not one of: debug, info, warning, error"),
        ('operator = "x"\nbench = \n', ":2:9: not valid TOML: Invalid value"),
    ],
)
def test_a_bad_file_is_one_located_line_and_exit_2(
    config_file: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config_file.write_text(text)
    with pytest.raises(InputError) as caught:
        load_config()
    assert str(caught.value).startswith(f"{config_file}{expected}"), caught.value
    data = tmp_path / "data"
    line = refusal(capsys, ["runs", "--data-dir", str(data)])
    assert line == f"rig runs: error: {caught.value}"
    assert not data.exists()


def test_the_data_directory_flag_beats_the_environment_which_beats_the_file(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text('data_dir = "from_file"\n')
    assert main(["runs"]) == 0
    assert capsys.readouterr().out.strip() == f"no runs in {config_file.parent / 'from_file'}"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert main(["runs"]) == 0
    assert capsys.readouterr().out.strip() == f"no runs in {tmp_path / 'from_env'}"
    assert main(["runs", "--data-dir", str(tmp_path / "from_flag")]) == 0
    assert capsys.readouterr().out.strip() == f"no runs in {tmp_path / 'from_flag'}"


@pytest.mark.integration
def test_the_operator_and_bench_come_from_the_file(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    mockup = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
    assert "--bench is required" in refusal(capsys, ["instruments", "probe", "--sim"])
    config_file.write_text(f'bench = "{mockup}"\noperator = "A. Tester"\n')
    assert main(["instruments", "probe", "--sim", "--json"]) == 0
    assert "TPG362" in json.loads(capsys.readouterr().out)["gauges"]["identity"]
    decay = mockup.parents[1] / "pressure_decay.yaml"
    data = tmp_path / "data"
    assert main(["run", str(decay), "--sim", "--data-dir", str(data), "--json"]) == 0
    run_dir = Path(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_dir"])
    assert '"operator": "A. Tester"' in (run_dir / "run.json").read_text()
