"""``rig schema``: print the JSON Schema of the procedure language (with every installed step kind)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``schema`` subcommand."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of procedure files",
        description="Print the JSON Schema (Draft 2020-12) of procedure files, plugin steps included, "
        "for editors to complete and check them.",
    )
    p.add_argument("--output", metavar="FILE", help="write it to FILE instead of stdout")
    p.set_defaults(handler=schema)


def schema(args: argparse.Namespace) -> int:
    """Print (or write) the schema; exit 0."""
    from rig.procedure.schema import procedure_schema

    text = json.dumps(procedure_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
