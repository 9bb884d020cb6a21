"""``rig plugins``: the instrument models and step kinds installed, where each came from, and what failed.

Every model and step kind comes through an entry point (``leakrig.instruments``,
``leakrig.steps``), ours included (source ``leakrig``). An entry point that failed to load
is one row (or JSON object) with ``ok`` false and its reason; the others are listed all the
same. Exit 0 when every entry point loaded, 1 when one or more did not.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.plugins import PluginItem

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
    from rig.steps import step_kinds, step_plugins

    items = [_checked(item) for item in [*PLUGINS, *step_plugins()]]
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


def _checked(item: PluginItem) -> PluginItem:
    """``item``, made not ok if it is a model whose driver or simulator cannot be imported or lacks its role.

    Loading a model imports neither (a bench that does not use it must not pay for it, nor fail
    by it); listing plugins is where a plugin's author learns that it would fail.
    """
    if not (item.ok and item.kind == "instrument"):
        return item
    from drivers.errors import DriverError
    from drivers.models import MODELS, import_named
    from drivers.registry import driver_class
    from drivers.roles import role_problem

    model = MODELS[item.name]
    try:
        problem = role_problem(driver_class(item.name), item.name, model.kind)
        if problem is None and model.simulator is not None:
            try:
                import_named(model.simulator)
            except (ImportError, AttributeError) as exc:
                problem = f"the {item.name} simulator {model.simulator!r} cannot be imported: {exc}"
    except DriverError as exc:
        problem = str(exc)
    if problem is None:
        return item
    return dataclasses.replace(item, ok=False, error=" ".join(problem.split()))


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
