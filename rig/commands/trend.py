"""``rig trend``: one measurement of one procedure across runs, with individuals-chart control limits.

Reads the local data directory (:class:`rig.record.local_history.LocalHistory`) or, with
``--store URL``, the lab store (``rig.store.query.StoreHistory``, imported only then: PostgreSQL's
client is not needed otherwise). Only the store URL given with ``--store`` is read; the
environment's ``LEAKRIG_STORE`` does not turn a local trend into a store one. Reads only;
``--plot`` writes only its image.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any, cast

from rig.errors import InputError
from rig.record.history import HistorySource
from rig.record.local_history import LocalHistory, Survey
from rig.report.trend_view import Trend, build_trend

STORE_MODULE = "rig.store.query"


def register(sub: Any) -> None:
    """Add the ``trend`` subcommand."""
    p = sub.add_parser(
        "trend",
        help="a measurement across runs, with control limits",
        description=(
            "Show one measurement of a procedure across its finished runs, oldest first: each run's value"
            " with its 95 %% interval (k = 2), the procedure's limit, and the control limits of an"
            " individuals chart (center ± 2.66 × the mean moving range); flag the runs outside them."
            " Reads the local data directory, or the lab store with --store. Reads only."
        ),
    )
    p.add_argument("--procedure", required=True, metavar="NAME", help="the procedure (its `procedure:` name)")
    p.add_argument("--measurement", required=True, metavar="NAME", help="the measurement (e.g. decay)")
    p.add_argument("--store", metavar="URL", help="read the lab store at this PostgreSQL URL instead")
    p.add_argument("--data-dir", help="data directory (default: the user's data directory)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the trend to this PNG image")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig trend``: 0 when the trend is shown (runs out of control included: they are news,
    not an error); bad input, an unknown procedure or measurement, exit 2 through InputError."""
    trend = read_trend(args.procedure, args.measurement, store=args.store, data_dir=args.data_dir)
    if args.plot is not None:
        # Imported here: matplotlib takes most of a second to load, and the numbers need none of it.
        from rig.report.trend_plot import plot_trend

        # Drawn before anything is printed, so a file that cannot be written is the only output.
        plot_trend(trend, args.plot)
    if args.json:
        print(json.dumps(trend.to_json()))
    else:
        print("\n".join(trend.lines()))
    if args.plot is not None:
        # With --json, stdout stays one JSON document; the note goes to stderr.
        print(f"plot written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def read_trend(procedure: str, measurement: str, *, store: str | None, data_dir: str | None) -> Trend:
    """The trend from the lab store at ``store`` if given, else from ``data_dir``.

    No run with a value of the measurement raises :class:`rig.errors.InputError` naming what was seen.
    """
    if store is not None:
        points = list(store_history(store).history(procedure, measurement))
        if not points:
            raise InputError(
                f"no finished run of procedure {procedure!r} in the lab store holds a measurement"
                f" {measurement!r}"
            )
        return build_trend(procedure, measurement, points)
    local = LocalHistory(data_dir)
    survey = local.survey(procedure, measurement)
    if not survey.points:
        raise InputError(_nothing_found(procedure, measurement, survey, str(local.store.data_dir)))
    return build_trend(procedure, measurement, survey.points, survey.skipped)


def store_history(url: str) -> HistorySource:
    """The lab store's history source (imported now, not before: it needs PostgreSQL's client)."""
    try:
        module = importlib.import_module(STORE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and STORE_MODULE.startswith(exc.name):
            raise InputError("the lab store is not available") from None
        raise InputError(f"the lab store is not available: {exc.name or exc} is not installed") from None
    return cast(HistorySource, module.StoreHistory(url))


def _nothing_found(procedure: str, measurement: str, survey: Survey, where: str) -> str:
    """One line: why there is no trend, naming what the data directory does hold."""
    if measurement in survey.measurements_seen:
        return (
            f"no finished run of procedure {procedure!r} holds a value of measurement {measurement!r}"
            f" ({len(survey.skipped)} run(s) ended without one)"
        )
    seen = ", ".join(survey.measurements_seen) or "none"
    text = (
        f"no finished run of procedure {procedure!r} holds a measurement {measurement!r};"
        f" measurements seen: {seen}"
    )
    if procedure not in survey.procedures_seen:
        procedures = ", ".join(survey.procedures_seen)
        text += (
            f" (procedures with finished runs in {where}: {procedures})"
            if procedures
            else f" (no finished runs in {where})"
        )
    return text
