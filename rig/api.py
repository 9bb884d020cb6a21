"""Procedures in Python: build a procedure from typed steps and run it, as ``rig run`` runs a file.

The steps are the classes the YAML makes (:mod:`rig.steps`: ``Fill``, ``MeasureDecay`` …, their
attributes in SI), and a lab's own kinds (subclasses of :class:`rig.steps.Step`, registered with
:func:`rig.steps.register_step`) alongside them::

    from rig.api import procedure, run
    from rig.steps.fill import Fill
    from rig.steps.measure_decay import MeasureDecay

    leak_check = procedure(
        "leak_check",
        "procedures/benches/vacuum_chamber_mockup.yaml",
        main=[
            Fill(volume="article", to_pa=2e5, tolerance_pa=5e3, timeout_s=300.0, through="supply"),
            MeasureDecay(name="decay", channel="p_article", volume="article", duration_s=600.0,
                         limit_pa_m3_s=9.06e-4),
        ],
    )
    result = run(leak_check, sim=True, seed=7)
    result.verdict, result.measurements["decay"].value_pa_m3_s, result.run_dir

Nothing here validates or runs on its own: :func:`procedure` writes the steps as a procedure
document (:mod:`rig.procedure.writer`) and loads it with the loader every file goes through, so
the checks are the same and a problem is reported as one :class:`ProcedureInvalid` naming the
step and attribute (``main[1] (fill) to_pa: …``); :func:`run` goes through the assembly ``rig
run`` uses (:func:`rig.commands.run.launch`), so the run is checked, signed and recorded alike,
its ``procedure.yaml`` the generated document: ``rig verify``, ``rig report`` and ``rig runs
show`` read it like any run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.bench import BenchSpec
from rig.commands.run import RunOptions, launch
from rig.located_yaml import loads
from rig.outcome import Outcome
from rig.procedure.loader import Procedure, ProcedureInvalid, load_procedure_text
from rig.procedure.writer import named, unwritable, write_procedure
from rig.record.measurement import Measurement
from rig.steps import Step
from rig.steps.fields import Unwritable

__all__ = ["Procedure", "ProcedureInvalid", "RunResult", "procedure", "run"]


def procedure(
    name: str,
    bench: str | Path | BenchSpec,
    *,
    main: Sequence[Step],
    setup: Sequence[Step] = (),
    cleanup: Sequence[Step] = (),
    sample_period_s: float = 1.0,
    gas: str | None = None,
    description: str = "",
) -> Procedure:
    """A validated procedure of typed steps on ``bench`` (a bench file, or one loaded).

    Checked as a procedure file is (fields, the kinds' own checks, the bounds, names the bench
    must have); every problem at once raises :class:`ProcedureInvalid`, each one naming the
    section, index, kind and attribute it is about. A value of the wrong Python type (a text
    where a number of seconds belongs) cannot even be written: it is refused first, alone.
    ``gas`` is the test gas the record states (None: air). The result's ``text`` is the
    document it was validated as, which a run records as its procedure.yaml.
    """
    source = f"<python:{name}>"
    bench_file = bench.source if isinstance(bench, BenchSpec) else str(Path(bench).resolve())
    sections = {"setup": setup, "main": main, "cleanup": cleanup}
    try:
        text = write_procedure(
            name,
            sections,
            bench=bench_file or None,
            sample_period_s=sample_period_s,
            gas=gas,
            description=description,
        )
    except Unwritable as exc:
        raise ProcedureInvalid([unwritable(exc, source)]) from None
    try:
        return load_procedure_text(text, source, bench)
    except ProcedureInvalid as exc:
        doc = loads(text, source)  # it parsed once: the problems are in its values
        raise ProcedureInvalid([named(p, doc) for p in exc.problems], exc.bench) from None


@dataclass(frozen=True)
class RunResult:
    """A run made by :func:`run`: what ``rig run --json`` prints, and its exit code."""

    run_id: str | None  # None: no run was recorded (an instrument failed before it began)
    run_dir: Path | None
    verdict: Outcome
    reason: str
    # By name, as the record holds them (value_pa_m3_s, expanded uncertainty, limit, outcome).
    measurements: Mapping[str, Measurement] = field(default_factory=dict)
    findings: Mapping[str, Any] = field(default_factory=dict)  # e.g. leaking_segment
    seed: int | None = None  # the simulation's seed as used (None: a real bench)
    exit_code: int = 0  # rig run's: 0 PASS, 1 FAIL, 3 ABORTED, 4 INCONCLUSIVE


def run(
    procedure: Procedure,
    *,
    sim: bool = True,
    seed: int | None = None,
    speed: float | None = None,
    data_dir: str | Path | None = None,
    yes: bool = False,
    operator: str | None = None,
    allow_expired_calibration: bool = False,
    part: str | None = None,
    serial: str | None = None,
) -> RunResult:
    """Run ``procedure`` as ``rig run`` does (``--sim`` by default here: a real bench is asked for).

    The keywords are ``rig run``'s options (``part`` and ``serial``: the article tested, as
    ``--part``/``--serial`` record it in run.json's ``article`` and on the certificate). Refused
    with :class:`rig.errors.InputError` before any instrument is contacted when the run cannot be
    signed, a calibration is out of date, or the bench is held by another run. Without ``sim`` or
    ``yes``, operator prompts are asked on the terminal. The live view goes to stderr.
    """
    from rig.commands.run_summary import recorded_measurements
    from rig.engine.runner import EXIT_CODES

    options = RunOptions(
        sim=sim,
        seed=seed,
        speed=speed,
        data_dir=data_dir,
        yes=yes,
        operator=operator,
        allow_expired_calibration=allow_expired_calibration,
        part=part,
        serial=serial,
    )
    launched = launch(procedure, options)
    outcome = launched.executed.outcome
    return RunResult(
        run_id=launched.run_id,
        run_dir=launched.run_dir,
        verdict=outcome.verdict,
        reason=outcome.reason,
        measurements=dict(recorded_measurements(launched.run_dir, outcome.measurements)),
        findings=dict(outcome.findings),
        seed=launched.seed,
        exit_code=EXIT_CODES[outcome.verdict],
    )
