"""``rig validate PROCEDURE.yaml``: check a procedure and its bench without touching anything."""

from __future__ import annotations

import argparse
from typing import Any

from rig.commands.bench_access import EXIT_INVALID, load_or_report


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


def run(args: argparse.Namespace) -> int:
    """Execute ``rig validate``: exit 0 when valid, 2 with one line per problem otherwise."""
    procedure = load_or_report(args.procedure, args.bench)
    if procedure is None:
        return EXIT_INVALID
    steps = len(procedure.setup) + len(procedure.main) + len(procedure.cleanup)
    bench = procedure.bench.name
    print(f"{procedure.source}: procedure {procedure.name!r} on bench {bench!r}: {steps} steps, valid")
    return 0
