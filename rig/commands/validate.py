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
    steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
    plan = Plan(steps, procedure.bench.valve_response_s)
    print(
        f"{procedure.source}: procedure {procedure.name!r} on bench {procedure.bench.name!r}: {len(steps)} "
        f"steps ({plan.count} executed, at most {duration_text(plan.max_s)}), valid"
    )
    return 0
