"""``rig evaluate PROCEDURE.yaml``: how well a procedure detects leaks, from simulated runs on Dask.

The procedure runs on its simulated bench over a grid of true leaks (``--factors`` of its
decisive measurement's limit) × ``--runs`` seeds each; the report gives, per factor, the runs'
verdicts and the probabilities of detection and of false alarm with exact 95 % intervals
(definitions in :mod:`rig.evaluation.grid`). Runs are Dask tasks: a local cluster of
``--workers`` processes, or the workers of ``--scheduler``.

Exit codes: 0 the evaluation ran (whatever it found), 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rig.commands.bench_access import EXIT_INVALID, load_or_report
from rig.errors import InputError

if TYPE_CHECKING:
    from rig.evaluation.evaluate import Evaluation


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="the detection curve of a procedure, from simulated runs over true leak sizes",
        description=(
            "Run the procedure on its simulated bench at true leaks of FACTORS x its limit, RUNS seeds "
            "each, as Dask tasks; report per factor the PASS/FAIL/INCONCLUSIVE/ABORTED counts, the "
            "probability of detection (a FAIL) and of false alarm (a FAIL below the limit) with exact "
            "95 % Clopper-Pearson intervals."
        ),
    )
    p.add_argument("procedure", help="procedure file (YAML) whose bench has a physics: part")
    p.add_argument(
        "--factors", default="0.5,1,2", help="true leaks as factors of the limit (default 0.5,1,2)"
    )
    p.add_argument("--runs", type=int, required=True, metavar="N", help="runs (seeds) per factor")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="a dask.distributed scheduler, e.g. tcp://host:8786"
    )
    p.add_argument("--workers", type=int, metavar="K", help="local worker processes (default: one per CPU)")
    p.add_argument("--seed", type=int, help="first seed (default: the bench file's physics.seed)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the detection curve to FILE.png")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """``rig evaluate``."""
    # Imported here: dask and scipy take half a second, and every other `rig` command needs neither.
    from rig.evaluation.cluster import ProgressLine
    from rig.evaluation.evaluate import evaluate
    from rig.evaluation.grid import parse_factors

    factors = parse_factors(args.factors)
    if args.scheduler is not None and args.workers is not None:
        raise InputError("--workers starts local workers; a --scheduler has its own: give one or the other")
    if args.plot is not None and not args.plot.lower().endswith(".png"):
        raise InputError(f"--plot {args.plot}: the detection curve is written as PNG (FILE.png)")
    if args.plot is not None:
        _check_writable(args.plot)
    procedure = load_or_report(args.procedure, None)
    if procedure is None:
        return EXIT_INVALID
    result = evaluate(
        procedure,
        Path(args.procedure),
        factors,
        args.runs,
        seed=args.seed,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=ProgressLine(),
    )
    if args.plot is not None:
        from rig.evaluation.plot import detection_curve

        try:
            detection_curve(result.factors, f"{procedure.name}: detection curve", Path(args.plot))
        except OSError as exc:
            raise InputError(f"--plot {args.plot}: cannot write ({exc.strerror or exc})") from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print(result)
    return 0


def _check_writable(plot: str) -> None:
    """:class:`InputError` now, not after an evaluation that may take an hour, if ``plot`` cannot be
    written: a file is made and removed beside it (permissions alone do not tell root, /proc, or a
    read-only mount)."""
    directory = Path(plot).parent
    if not directory.is_dir():
        raise InputError(f"--plot {plot}: cannot write (no directory {directory})")
    if Path(plot).is_dir():
        raise InputError(f"--plot {plot}: cannot write (it is a directory)")
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".leakrig-plot-"):
            pass
    except OSError as exc:
        raise InputError(f"--plot {plot}: cannot write ({exc.strerror or exc})") from None


def _print(result: Evaluation) -> None:
    print(
        f"{result.procedure.name}: {result.true_leak.measurement} against "
        f"{result.true_leak.limit_pa_m3_s:.3g} Pa*m3/s, {result.runs_per_factor} runs per factor "
        f"(seeds {result.seed}..), {result.elapsed_s:.1f} s on {result.workers}"
    )
    counts = f"{'factor':>7} {'PASS':>5} {'FAIL':>5} {'INC':>5} {'ABRT':>5}"
    print(f"{counts}  p_detect (95% CI)        p_false_alarm")
    for f in result.factors:
        entry = f.to_json()
        c = entry["counts"]
        low, high = entry["p_detect_ci95"]
        alarm = "-" if entry["p_false_alarm"] is None else f"{entry['p_false_alarm']:.3f}"
        print(
            f"{f.factor:>7g} {c['PASS']:>5} {c['FAIL']:>5} {c['INCONCLUSIVE']:>5} {c['ABORTED']:>5}  "
            f"{entry['p_detect']:.3f} [{low:.3f}, {high:.3f}]    {alarm}"
        )
