"""``rig plugins``: the instrument models and step kinds installed, where each came from, and what failed.

Every model and step kind comes through an entry point (``leakrig.instruments``,
``leakrig.steps``), ours included (source ``leakrig``). An entry point that failed to load
is one row (or JSON object) with ``ok`` false and its reason; the others are listed all the
same. Exit 0 when every entry point loaded, 1 when one or more did not.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_BROKEN = 1


def register(sub: Any) -> None:
    """Add the ``plugins`` subcommand."""
    p = sub.add_parser(
        "plugins",
        help="list installed instrument models and step kinds, and where they came from",
        description=(
            "List every instrument model (entry points `leakrig.instruments`) and step kind "
            "(`leakrig.steps`) installed, the distribution that brought it, and each entry point "
            "that failed to load, with why. Exit 1 when one failed."
        ),
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of {name, kind, source, ok, ...}")
    p.set_defaults(handler=run_plugins)


def run_plugins(args: argparse.Namespace) -> int:
    """Execute ``rig plugins``: exit 0 when every entry point loaded, else 1."""
    from drivers.models import MODELS, PLUGINS
    from rig.steps import PLUGINS as STEP_PLUGINS
    from rig.steps import step_kinds

    items = [*PLUGINS, *STEP_PLUGINS]
    if args.json:
        rows = []
        for item in items:
            row = item.as_json()
            if item.ok and item.kind == "instrument":
                row["model_kind"] = MODELS[item.name].kind
                row["simulated"] = MODELS[item.name].simulator is not None
            elif item.ok:
                cls = step_kinds()[item.name]
                row["class"] = f"{cls.__module__}:{cls.__qualname__}"
            rows.append(row)
        print(json.dumps(rows))
    else:
        _print_table(items, MODELS)
    return EXIT_BROKEN if any(not item.ok for item in items) else 0


def _print_table(items: list[Any], models: dict[str, Any]) -> None:
    from rich.table import Table

    from rig.commands.consoles import output_console

    table = Table(title="Plugins")
    for column in ("name", "kind", "source", "status"):
        table.add_column(column)
    for item in items:
        if not item.ok:
            status = f"FAILED: {item.error} ({item.entry_point})"
        elif item.kind == "instrument":
            model = models[item.name]
            status = model.kind + ("" if model.simulator is not None else ", no simulator")
        else:
            status = "step kind"
        table.add_row(item.name, item.kind, item.source, status)
    output_console().print(table)
