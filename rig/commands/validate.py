"""``rig validate PROCEDURE.yaml``: check a procedure and its bench without touching anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rig.bench import BenchSpec
from rig.commands.bench_access import EXIT_INVALID
from rig.located_yaml import LocatedError
from rig.procedure.bounds import duration_text
from rig.procedure.loader import Procedure, ProcedureInvalid, load_procedure
from rig.procedure.plan import Plan


def register(sub: Any) -> None:
    """Add the ``validate`` subcommand."""
    p = sub.add_parser(
        "validate",
        help="check a procedure (and its bench) strictly; contacts no instrument",
        description="Validate a procedure file against its bench; every problem is printed as file:line:col.",
    )
    p.add_argument("procedure", help="procedure file (YAML)")
    p.add_argument("--bench", help="bench file to use instead of the one the procedure names")
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) a procedure with warnings, e.g. a measurement too short to decide its limit",
    )
    p.set_defaults(handler=run)


def validation_problems(
    procedure_path: str | Path, bench_path: str | Path | None = None
) -> tuple[Procedure | None, list[LocatedError]]:
    """What ``rig validate`` finds: the procedure (None if it did not load) and every problem.

    A simulated bench's ``physics:`` and ``faults:`` parts are checked too (what ``--sim``
    would build), on a virtual clock and without starting a server.
    """
    problems: list[LocatedError] = []
    procedure: Procedure | None
    bench: BenchSpec | None
    try:
        procedure = load_procedure(procedure_path, bench_path)
        bench = procedure.bench
    except ProcedureInvalid as exc:
        procedure, bench, problems = None, exc.bench, list(exc.problems)
    if bench is not None and bench.simulated:
        from rig.sim.bench_physics import physics_problems

        # The procedure's checks read a few physics values too (a simulated gauge's noise): once is enough.
        said = {str(p) for p in problems}
        problems += [p for p in physics_problems(bench) if str(p) not in said]
    return procedure, problems


def run(args: argparse.Namespace) -> int:
    """Execute ``rig validate``: exit 0 when valid, 2 with one line per problem otherwise."""
    procedure, problems = validation_problems(args.procedure, args.bench)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems or procedure is None:
        return EXIT_INVALID
    warnings = undecisive_measurements(procedure)
    for warning in warnings:
        print(warning, file=sys.stderr)
    if warnings and args.strict:
        print(f"{procedure.source}: refused (--strict): {len(warnings)} warning(s)", file=sys.stderr)
        return EXIT_INVALID
    steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
    plan = Plan(steps, procedure.bench.valve_response_s)
    print(
        f"{procedure.source}: procedure {procedure.name!r} on bench {procedure.bench.name!r}: {len(steps)} "
        f"steps ({plan.count} executed, at most {duration_text(plan.max_s)}), valid"
        + (f", {len(warnings)} warning(s) above" if warnings else "")
    )
    return 0


def undecisive_measurements(procedure: Procedure) -> list[str]:
    """A warning (``file:line:col: warning: ...``) for each limit a measurement cannot decide in its duration.

    Judged as ``rig plan`` judges the procedure's own duration (:func:`rig.analysis.planner.decides_at`:
    a leak of half the limit decided with the plan's power, ASTM E2930 met), each warning quoting
    the duration ``rig plan`` proposes, or why no duration within the bounds decides.
    """
    from rig.analysis.budget import E2930_FRACTION
    from rig.analysis.planner import POWER, decides_at, forecast, plan_duration
    from rig.commands.plan import hms
    from rig.planning import longest_allowed, measurements, setup_for

    warnings = []
    for step in measurements(procedure):
        limit = step.limit_pa_m3_s
        if limit is None:
            continue
        setup = setup_for(procedure, step)
        expected = limit / 2.0
        if decides_at(setup, step.duration_s, limit, expected, POWER):
            continue
        resolution = forecast(setup, step.duration_s, expected).test.test_resolution_pa_m3_s
        why = (
            f"it fails ASTM E2930 for {step.channel} at that duration (the test resolves {resolution:.3g} "
            f"Pa·m³/s, more than a tenth of the limit)"
            if resolution > E2930_FRACTION * limit
            else f"a leak of half the limit would not be decided with {POWER:.0%} power"
        )
        longest, bounded_by = longest_allowed(procedure, step.name, limit)
        plan = plan_duration(setup, limit, None, POWER, max_duration_s=longest, bounded_by=bounded_by)
        planned = (
            f"`rig plan` proposes {hms(plan.duration_s)} ({plan.duration_s:g} s)"
            if plan.duration_s is not None
            else f"`rig plan` finds no duration that decides it: {plan.reason}"
        )
        warnings.append(
            f"{step.location}: warning: measurement {step.name!r} cannot reach a decisive verdict in its "
            f"{duration_text(step.duration_s)}: {why}; {planned}"
        )
    return warnings
