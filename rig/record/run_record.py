"""One run directory, read back typed: what was run, on which bench, what it measured, how it ended.

A run directory (:mod:`rig.record.run_store`) holds ``run.json``, ``procedure.yaml`` and
``bench.yaml`` as run, ``samples.csv``, ``events.jsonl`` and, once the run has finished,
``results.json`` (written by :func:`rig.record.results.write_results`). :meth:`RunRecord.load`
reads all of it; the certificate, ``rig runs show`` and the plots read a :class:`RunRecord`,
never the files.

Of the files only ``results.json`` must be there, and only for a finished run: a missing or
damaged ``run.json``, ``procedure.yaml`` or ``bench.yaml`` reads as an empty mapping, samples
that cannot be read as none, so that a certificate states what it can and says "not
recorded" for the rest, never a guess. What could not be read is kept in
:attr:`RunRecord.unread` with the reason, for a reader that needs it whole
(:meth:`RunRecord.require`). The procedure's steps are read typed, by the loader that
validated them for the run (against the bench the run recorded); a procedure it no longer
accepts (damaged, or of an older format) reads as no steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from rig.bench import BenchSpec, load_bench
from rig.errors import InputError
from rig.outcome import Outcome
from rig.procedure.loader import load_procedure
from rig.record.event_lines import event_lines
from rig.record.measurement import Measurement
from rig.record.results import RESULTS, RunResults
from rig.record.run_samples import RunSamples, parse_samples
from rig.record.run_store import DamagedRecordError, read_results, read_run_info, read_samples
from rig.record.run_writer import EVENTS, SAMPLES
from rig.steps import Step

RUN_INFO = "run.json"
PROCEDURE = "procedure.yaml"
BENCH = "bench.yaml"
T = TypeVar("T")


@dataclass(frozen=True)
class RunRecord:
    """A run directory as read: its files typed where they have a type, as mappings where they have none.

    ``info`` is ``run.json`` (who ran what, seed, instrument identities, calibrations);
    ``procedure`` and ``bench`` the YAML files as the run kept them, ``steps`` and ``bench_spec``
    the same read by the loader (empty and None when it refuses them today). ``results`` is
    None for a run that has not finished (it crashed or is still running).
    """

    run_dir: Path
    info: Mapping[str, Any]
    results: RunResults | None
    procedure: Mapping[str, Any]
    bench: Mapping[str, Any]
    procedure_sha256: str | None  # of procedure.yaml as it is now (None: there is no such file)
    steps: tuple[Step, ...] = ()
    bench_spec: BenchSpec | None = None
    samples: RunSamples | None = None
    events: tuple[Mapping[str, Any], ...] = ()
    unread: Mapping[str, str] = field(default_factory=dict)  # file name → why it could not be read

    @property
    def verdict(self) -> Outcome | None:
        """How the run ended (None: it has not, or its record does not say)."""
        return None if self.results is None else self.results.verdict

    @property
    def measurements(self) -> Mapping[str, Measurement]:
        """The run's measurements by name (none before it has finished)."""
        return {} if self.results is None else self.results.measurements or {}

    @classmethod
    def load(cls, run_dir: str | Path, *, finished: bool = True) -> RunRecord:
        """The run recorded in ``run_dir``.

        A directory that is not there, a damaged ``results.json`` and (unless ``finished`` is
        False) a missing one raise :class:`rig.errors.InputError` in one line naming the file:
        without results there is nothing to certify. Every other file is read as far as it
        can be (see the module's docstring).
        """
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            missing = not run_dir.exists()
            raise DamagedRecordError(
                f"run directory {run_dir} is missing" if missing else f"{run_dir} is not a run directory"
            )
        document = read_results(run_dir)
        if document is None and finished:
            raise InputError(
                f"{run_dir / RESULTS}: missing (the run crashed, is still running, or this is no run)"
            )
        unread: dict[str, str] = {}
        procedure_file = run_dir / PROCEDURE
        steps, bench_spec = _read_steps(run_dir)
        return cls(
            run_dir=run_dir,
            info=_attempt(unread, RUN_INFO, lambda: read_run_info(run_dir), {}),
            results=None if document is None else RunResults.from_json(document),
            procedure=_attempt(unread, PROCEDURE, lambda: _read_yaml(procedure_file), {}),
            bench=_attempt(unread, BENCH, lambda: _read_yaml(run_dir / BENCH), {}),
            procedure_sha256=(
                hashlib.sha256(procedure_file.read_bytes()).hexdigest() if procedure_file.is_file() else None
            ),
            steps=steps,
            bench_spec=bench_spec,
            samples=_attempt(unread, SAMPLES, lambda: _read_samples(run_dir), None),
            events=tuple(_attempt(unread, EVENTS, lambda: read_events(run_dir), [])),
            unread=unread,
        )

    def require(self, *files: str) -> None:
        """Refuse a record that lacks any of ``files`` or could not read it: :class:`DamagedRecordError`
        naming the first such file and what is wrong with it."""
        for name in files:
            if name in self.unread:
                raise DamagedRecordError(self.unread[name])


def _attempt(unread: dict[str, str], name: str, read: Callable[[], T], otherwise: T) -> T:
    """What ``read`` returns; ``otherwise`` when it cannot read file ``name`` (noted in ``unread``)."""
    try:
        return read()
    except InputError as exc:
        unread[name] = str(exc)
    except FileNotFoundError as exc:
        unread[name] = f"{exc.filename} is missing"
    except OSError as exc:
        unread[name] = f"{exc.filename or name} cannot be read: {exc.strerror or exc}"
    return otherwise


def _read_yaml(path: Path) -> Mapping[str, Any]:
    """A YAML mapping from ``path`` (InputError when it is no readable mapping)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DamagedRecordError(f"{path} is damaged: {exc}") from None
    if not isinstance(data, dict):
        raise DamagedRecordError(f"{path} is damaged: not a mapping")
    return data


def _read_samples(run_dir: Path) -> RunSamples:
    """The run's samples as arrays (a file the crash left empty, before its header: no channels)."""
    header, rows = read_samples(run_dir)
    if not header:
        return parse_samples(["time", "step"], [])
    return parse_samples(header, rows)


def read_events(run_dir: str | Path) -> list[dict[str, Any]]:
    """The events of a run, in order; a line a crash cut short (or no file at all) is skipped."""
    path = Path(run_dir) / EVENTS
    if not path.exists():
        return []
    try:
        return list(event_lines(path))
    except UnicodeDecodeError as exc:
        raise DamagedRecordError(f"{path} is damaged: not UTF-8 text (byte {exc.start})") from None


def _read_steps(run_dir: Path) -> tuple[tuple[Step, ...], BenchSpec | None]:
    """The recorded procedure's steps, validated against the recorded bench, and that bench, typed.

    Either is refused when the loader no longer accepts it (damaged, or of an older format): no
    steps, no bench.
    """
    bench = run_dir / BENCH
    try:
        procedure = load_procedure(run_dir / PROCEDURE, bench if bench.is_file() else None)
    except InputError:
        procedure = None
    if procedure is not None:
        steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
        return steps, procedure.bench if bench.is_file() else None
    try:
        return (), load_bench(bench) if bench.is_file() else None
    except InputError:
        return (), None
