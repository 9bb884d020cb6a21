"""A run directory read back for its certificate, tolerant of what older records lack.

Of the run's files only ``results.json`` is required (without it there is nothing to certify);
a missing or damaged ``run.json``, ``procedure.yaml`` or ``bench.yaml`` reads as an empty
mapping and unreadable samples as none, so that a certificate states what it can and says
"not recorded" for the rest, never a guess. The procedure's steps are read back typed, by the
loader that validated them for the run (against the bench the run recorded); a procedure it
no longer accepts (damaged, or from an older format) reads as no steps. The accessors here
read one recorded value each the same way: a mapping or an empty one, a finite number or None,
text or "not recorded".
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rig.errors import InputError
from rig.procedure.loader import load_procedure
from rig.record.run_store import read_samples
from rig.report.run_plot import RunSamples, parse_samples
from rig.steps import Step

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class RecordedRun:
    """What a run directory holds, as read: its files as mappings, its samples if they can be drawn."""

    run_dir: Path
    info: dict[str, Any]  # run.json
    results: dict[str, Any]  # results.json
    procedure: dict[str, Any]  # procedure.yaml as the run recorded it
    bench: dict[str, Any]  # bench.yaml
    samples: RunSamples | None
    procedure_sha256: str | None  # of procedure.yaml as it is now (None: there is no such file)
    steps: tuple[Step, ...] = ()  # the procedure's steps as the loader reads them (none if it cannot)


def read_run(run_dir: Path) -> RecordedRun:
    """The run in ``run_dir``; :class:`rig.errors.InputError` when it is no run or has no results."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    info = _read_json(run_dir / "run.json", required=False)
    results = _read_json(run_dir / "results.json", required=True)
    procedure = _read_yaml(run_dir / "procedure.yaml")
    bench = _read_yaml(run_dir / "bench.yaml")
    try:
        header, rows = read_samples(run_dir)
        samples: RunSamples | None = parse_samples(header, rows)
    except (OSError, InputError):
        # A certificate still states the numbers when the samples cannot be drawn.
        samples = None
    procedure_file = run_dir / "procedure.yaml"
    sha256 = hashlib.sha256(procedure_file.read_bytes()).hexdigest() if procedure_file.is_file() else None
    return RecordedRun(run_dir, info, results, procedure, bench, samples, sha256, _read_steps(run_dir))


def _read_steps(run_dir: Path) -> tuple[Step, ...]:
    """The recorded procedure's steps, validated against the recorded bench; none if either is refused."""
    bench = run_dir / "bench.yaml"
    try:
        procedure = load_procedure(run_dir / "procedure.yaml", bench if bench.is_file() else None)
    except InputError:
        return ()
    return (*procedure.setup, *procedure.main, *procedure.cleanup)


def _read_json(path: Path, required: bool) -> dict[str, Any]:
    """A JSON object from ``path``; a missing or damaged optional file is an empty one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise InputError(
                f"{path}: missing (the run crashed, is still running, or this is no run)"
            ) from None
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if required:
            raise InputError(f"{path}: cannot read it ({exc})") from None
        return {}
    if not isinstance(data, dict):
        if required:
            raise InputError(f"{path}: expected a JSON object")
        return {}
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, or an empty one: a certificate reports what it can read."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN, but older records wrote it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_text(value: Any) -> str:
    """``value`` as the certificate prints it: :data:`NOT_RECORDED` when absent or empty."""
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
