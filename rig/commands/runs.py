"""``rig runs``: the runs in the data directory, and one run in detail.

Both only read: the data directory and its index are never written (a run whose process
died shows as interrupted without the index being changed), and a data directory that does
not exist yet holds no runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rig.commands.runs_analyze import analyze_run
from rig.commands.runs_analyze import register as register_analyze
from rig.errors import InputError
from rig.record.run_store import RunStore, RunSummary

if TYPE_CHECKING:
    from rig.record.run_record import RunRecord


def register(sub: Any) -> None:
    """Add the ``runs`` subcommand (``rig runs`` lists, ``rig runs show ID`` shows one, ``rig runs
    analyze ID --step NAME`` refits one of its measurement windows)."""
    runs = sub.add_parser("runs", help="list recorded runs", description="Recorded runs and their status.")
    runs.add_argument("--data-dir", help="data directory (default: the user's data directory)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    _search_options(runs)
    runs_sub = runs.add_subparsers(dest="runs_command")
    show = runs_sub.add_parser("show", help="one run in detail")
    show.add_argument("run_id", help="run id (or a unique prefix)")
    show.add_argument("--data-dir", dest="sub_data_dir", help="data directory")
    show.add_argument("--json", dest="sub_json", action="store_true", help="print JSON")
    show.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw the run (pressures, temperatures, steps, fitted decays) to this image",
    )
    register_analyze(runs_sub)
    runs.set_defaults(handler=run)


def _search_options(runs: argparse.ArgumentParser) -> None:
    """--store and the search filters (the local index and the lab store alike)."""
    runs.add_argument(
        "--store",
        metavar="URL",
        help="list the lab store's runs (every bench's; a PostgreSQL URL) instead of the data directory's",
    )
    runs.add_argument("--bench", help="only runs on this bench (its name)")
    runs.add_argument("--procedure", help="only runs of this procedure (its name)")
    runs.add_argument("--part", help="only runs of this part number")
    runs.add_argument("--serial", help="only runs of this serial number")
    runs.add_argument("--verdict", help="only runs with this verdict (PASS, FAIL, INCONCLUSIVE, ABORTED)")
    runs.add_argument("--since", metavar="DATE", help="only runs started on or after DATE (YYYY-MM-DD, UTC)")
    runs.add_argument("--until", metavar="DATE", help="only runs started on or before DATE (YYYY-MM-DD, UTC)")


def _listed(args: argparse.Namespace, store: RunStore) -> tuple[list[RunSummary], str]:
    """The runs to list (filtered) and where they are (for the table's title)."""
    from rig.store.filters import RunFilter, parse_when

    run_filter = RunFilter(
        bench=args.bench,
        procedure=args.procedure,
        part=args.part,
        serial=args.serial,
        verdict=args.verdict,
        since=None if args.since is None else parse_when(args.since, "--since"),
        until=None if args.until is None else parse_when(args.until, "--until", end_of_day=True),
    )
    if args.store is not None:
        from rig.store.connection import open_store, shown
        from rig.store.query import store_runs

        with open_store(args.store) as conn:
            return store_runs(conn, run_filter), f"the lab store ({shown(args.store)})"
    return [r for r in store.runs() if run_filter.matches(r)], str(store.data_dir)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig runs``, ``rig runs show`` or ``rig runs analyze``: read only, nothing in the data
    directory is written (``--plot`` writes only its image)."""
    data_dir = getattr(args, "sub_data_dir", None) or args.data_dir
    store = RunStore(data_dir)
    if args.runs_command is not None and args.store is not None:
        raise InputError("--store lists the lab store's runs; `rig store pull RUN_ID` fetches one to show")
    if args.runs_command == "show":
        return _show(store, args)
    if args.runs_command == "analyze":
        # Its --json is its own: the refit's one object, as rig analyze prints it.
        args.sub_json = args.sub_json or args.json
        return analyze_run(store, args)
    runs, where = _listed(args, store)
    if args.json:
        print(json.dumps([asdict(r) for r in runs]))
        return 0
    if not runs:
        print(f"no runs in {where}")
        return 0
    # Imported here: rich takes a while to load, and --json needs none of it.
    from rig.commands.runs_show import plain_lines, runs_table

    if not sys.stdout.isatty():
        # Piped or redirected: plain columns a script can split, with every id and status whole.
        print("\n".join(plain_lines(runs)))
        return 0
    from rig.commands.consoles import output_console

    output_console().print(runs_table(runs, f"Runs in {where}"))
    return 0


def run_detail(summary: RunSummary) -> tuple[RunRecord, dict[str, Any]]:
    """The run's record and the object ``rig runs show --json`` prints for it: its summary's fields,
    then ``samples`` (their count), ``channels``, ``results`` and ``run`` (``run.json``).

    A run still running is read as far as it has got; a record whose ``run.json`` or samples
    cannot be read raises :class:`rig.record.run_store.DamagedRecordError`.
    """
    # Imported here: a record reads its procedure's steps, which listing runs does not need.
    from rig.record.run_record import RUN_INFO, RunRecord
    from rig.record.run_writer import SAMPLES

    record = RunRecord.load(summary.run_dir, finished=False)
    record.require(RUN_INFO, SAMPLES)
    samples = record.samples
    assert samples is not None  # required just above
    detail = {
        **asdict(summary),
        "samples": samples.time_s.size,
        "channels": list(samples.channels),
        "results": None if record.results is None else record.results.to_json(),
        "run": record.info,
    }
    return record, detail


def _show(store: RunStore, args: argparse.Namespace) -> int:
    # Everything is read (and a damaged record refused) before anything is drawn or printed.
    record, detail = run_detail(store.find(args.run_id))
    plot = getattr(args, "plot", None)
    if plot is not None:
        # Imported here: matplotlib takes most of a second to load, and listing runs needs none of it.
        from rig.report.run_plot import plot_run

        # Drawn before anything is printed, so a file that cannot be written is the only output.
        plot_run(record, plot)
    as_json = args.json or getattr(args, "sub_json", False)
    if as_json:
        print(json.dumps(detail))
    else:
        from rig.commands.consoles import output_console
        from rig.commands.runs_show import print_run

        comparisons = () if record.results is None else record.results.comparisons
        print_run(detail, record.measurements, output_console(), comparisons)
    if plot is not None:
        # With --json, stdout stays one JSON document; the note goes to stderr.
        print(f"plot written to {plot}", file=sys.stderr if as_json else sys.stdout)
    return 0
