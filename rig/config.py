"""The operator's own defaults: a TOML file in the user's configuration directory.

``$XDG_CONFIG_HOME/leakrig/config.toml`` (``~/.config/leakrig/config.toml`` without it)
may say, each key optional::

    bench = "~/benches/chamber.yaml"   # for commands that take a bench alone (instruments probe)
    data_dir = "/srv/leakrig"          # where run records go
    operator = "A. Tester"             # who runs the tests
    visa_library = "@py"               # the VISA backend pyvisa loads
    log_level = "info"                 # what reaches stderr: debug, info, warning, error
    log_file = "~/leakrig.log"         # every message, debug included, appended here
    station_token = "…"                # rig station's operator token (default: a new one each start)

What decides, strongest first: the command line, then ``LEAKRIG_DATA_DIR`` for the data
directory, then (for the VISA library) the bench file's ``visa_library:``, then this file,
then the built-in defaults. A file that is not TOML, or has an unknown key or a value of the
wrong type, is refused with one ``file:line: problem`` line and exit 2, before anything runs.
Relative paths in the file are relative to the file's own directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rig.errors import InputError

CONFIG_HOME_ENV = "XDG_CONFIG_HOME"
DATA_DIR_ENV = "LEAKRIG_DATA_DIR"
LOG_LEVELS = ("debug", "info", "warning", "error")
# Key → whether its value is a path (expanded, and taken relative to the file's directory).
KEYS = {
    "bench": True,
    "data_dir": True,
    "operator": False,
    "visa_library": False,
    "log_level": False,
    "log_file": True,
    "station_token": False,
}


@dataclass(frozen=True)
class Config:
    """What the user's configuration file says (every field None when it does not say)."""

    source: str | None = None  # the file read, None when there is none
    bench: str | None = None
    data_dir: str | None = None
    operator: str | None = None
    visa_library: str | None = None
    log_level: str | None = None
    log_file: str | None = None
    station_token: str | None = None


def config_path() -> Path:
    """Where the configuration file is looked for (XDG base directory rules)."""
    home = os.environ.get(CONFIG_HOME_ENV, "")
    # The XDG specification says a relative $XDG_CONFIG_HOME is invalid and to be ignored.
    base = Path(home) if home and Path(home).is_absolute() else Path.home() / ".config"
    return base / "leakrig" / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """The configuration at ``path`` (default :func:`config_path`); an empty one if there is no file.

    Raises :class:`InputError` (``file:line: problem``) for a file that is not valid.
    """
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_located_decode_error(path, str(exc))) from exc
    values: dict[str, str] = {}
    for key, value in data.items():
        where = f"{path}:{_line_of(text, key)}"
        if key not in KEYS:
            raise InputError(f"{where}: unknown key {key!r} (expected one of: {', '.join(KEYS)})")
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: {key} must be a non-empty string, got {_kind(value)}")
        if key == "log_level" and value.lower() not in LOG_LEVELS:
            raise InputError(f"{where}: log_level {value!r} is not one of: {', '.join(LOG_LEVELS)}")
        values[key] = str(path.parent / Path(value).expanduser()) if KEYS[key] else value
    if "log_level" in values:
        values["log_level"] = values["log_level"].lower()
    return Config(source=str(path), **values)


def data_dir(flag: str | None, config: Config) -> str | None:
    """The data directory: the flag, else ``$LEAKRIG_DATA_DIR``, else the config's (None: the default)."""
    return flag or os.environ.get(DATA_DIR_ENV) or config.data_dir


def visa_library(flag: str | None, bench_library: str | None, config: Config) -> str:
    """The VISA library: the flag, else the bench file's, else the config's, else pyvisa-py."""
    from drivers.transport import DEFAULT_VISA_LIBRARY

    return flag or bench_library or config.visa_library or DEFAULT_VISA_LIBRARY


def chosen_visa_library(flag: str | None, bench_library: str | None, config: Config) -> str:
    """:func:`visa_library`, loaded once to be sure it can be: else :class:`InputError`, one line."""
    from drivers.transport import VisaLibraryError, load_visa_library

    library = visa_library(flag, bench_library, config)
    try:
        load_visa_library(library)
    except VisaLibraryError as exc:
        raise InputError(str(exc)) from exc
    return library


def _located_decode_error(path: Path, message: str) -> str:
    """tomllib's ``problem (at line L, column C)`` as ``file:L:C: problem``."""
    found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message)
    if found is None:
        return f"{path}: not valid TOML: {message}"
    return f"{path}:{found[2]}:{found[3]}: not valid TOML: {found[1]}"


def _line_of(text: str, key: str) -> int:
    """The line where ``key`` is set (1 if it cannot be told, a table header for instance)."""
    pattern = re.compile(rf"""^\s*(\[+\s*)?["']?{re.escape(key)}["']?\s*(=|\])""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "an empty string"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"
