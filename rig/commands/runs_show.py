"""The human-readable forms of ``rig runs``: the list of runs, and one run with its results.

The list keeps each run's whole id and status: piped (stdout not a terminal) it is plain
columns a script can split, at a terminal a rich table whose id and status columns never
shrink (the other columns wrap instead). One run's results are a table of its
measurements (value ± expanded uncertainty, k = 2, and limit, in the measurement's unit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from rig.commands.run_summary import measurement_json
from rig.record.measurement import Comparison, Measurement
from rig.record.run_store import RunSummary

# The columns of the list, in order: a header, and the field of a RunSummary it shows.
_COLUMNS = (
    ("run", "run_id"),
    ("procedure", "procedure"),
    ("bench", "bench"),
    ("started", "started"),
    ("status", "status"),
    ("verdict", "verdict"),
    ("reason", "reason"),
)
# Never shortened: a run is named by its id, and its status and verdict are what the list is read for.
_WHOLE = frozenset({"run_id", "status", "verdict"})
# Shown otherwise (results, channels) or only in --json (run.json whole, the controller's pid).
_NOT_FACTS = frozenset({"results", "run", "channels", "pid"})


def _cell(run: RunSummary, field: str) -> str:
    value = getattr(run, field)
    return "" if value is None else str(value)


def plain_lines(runs: Sequence[RunSummary]) -> list[str]:
    """The runs as plain, aligned columns (a header line first), nothing cut.

    An empty cell reads ``-`` so that splitting a line on blanks keeps the columns; the
    reason, last, is free text.
    """
    rows = [[h for h, _ in _COLUMNS]]
    rows += [[_cell(r, f) or "-" for _, f in _COLUMNS] for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]


def runs_table(runs: Sequence[RunSummary], title: str) -> Table:
    """The runs as a rich table whose id and status columns are never cut or wrapped."""
    # No vertical rules: at 80 columns every character goes to the text.
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for header, field in _COLUMNS:
        if field in _WHOLE:
            width = max([len(header), *(len(_cell(r, field)) for r in runs)])
            table.add_column(header, no_wrap=True, min_width=width)
        else:
            table.add_column(header, overflow="fold")
    for r in runs:
        table.add_row(*(_cell(r, f) for _, f in _COLUMNS))
    return table


def _number(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def results_table(measurements: Mapping[str, Measurement]) -> Table:
    """One row per measurement: name, outcome, value ± U (k = 2), limit, unit: in the unit the
    procedure wrote its limit in, as ``rig run`` prints them (:func:`measurement_json`)."""
    table = Table(title="Results", title_justify="left")
    table.add_column("measurement", overflow="fold")
    table.add_column("outcome", no_wrap=True)
    table.add_column("value ± U (k=2)", justify="right", no_wrap=True)
    table.add_column("limit", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for name, entry in measurements.items():
        outcome = "—" if entry.outcome is None else entry.outcome.value
        stated = measurement_json(entry)
        value = "—" if stated["value"] is None else _number(stated["value"])
        if stated["value"] is not None and stated["uncertainty_k2"] is not None:
            value += f" ± {_number(stated['uncertainty_k2'])}"
        table.add_row(name, outcome, value, _number(stated["limit"]), stated["unit"] or "")
    return table


def print_run(
    detail: Mapping[str, Any],
    measurements: Mapping[str, Measurement],
    console: Console,
    comparisons: Sequence[Comparison] = (),
) -> None:
    """One run: its summary as ``key: value`` lines, then its results as a table, then why any was
    refused and what its before/after ``comparisons`` found."""
    info = detail.get("run") or {}
    facts: dict[str, Any] = {k: v for k, v in detail.items() if k not in _NOT_FACTS and v is not None}
    facts["channels"] = ", ".join(detail.get("channels") or []) or "none"
    for key in ("operator", "seed", "sim"):
        if info.get(key) is not None:
            facts[key] = info[key]
    for key, value in facts.items():
        console.print(f"{key:>10}: {value}", highlight=False, markup=False, soft_wrap=True)
    if detail.get("results") is None:
        console.print("   results: none (the run has not finished, or crashed)", highlight=False)
        return
    if not measurements:
        console.print("   results: no measurements", highlight=False)
        return
    console.print(results_table(measurements))
    for name, entry in measurements.items():
        if entry.refusal:
            console.print(f"{name}: {entry.refusal}", highlight=False, markup=False, soft_wrap=True)
    for c in comparisons:
        interval = (
            ""
            if c.interval95 is None
            else f" (95 % interval {_number(c.interval95[0])} to {_number(c.interval95[1])})"
        )
        factor = _number(c.reduction_factor)
        line = f"{c.name or 'comparison'}: {c.before} to {c.after}, reduction factor {factor}{interval}"
        console.print(line, highlight=False, markup=False, soft_wrap=True)
