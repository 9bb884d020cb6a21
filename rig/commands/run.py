"""``rig run PROCEDURE.yaml``: run a procedure on its bench (or its simulation) and record it."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import platform
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rig import __version__
from rig.commands.bench_access import EXIT_INVALID, load_or_report, open_bench
from rig.errors import InputError
from rig.record.integrity import seal_run

# The fastest --speed: at 1000x a 1 s sample period lasts 1 ms of wall time, about one loopback
# transaction with one instrument; beyond it samples would be skipped, not taken faster.
MAX_SPEED = 1000.0


def register(sub: Any) -> None:
    """Add the ``run`` subcommand."""
    p = sub.add_parser("run", help="run a procedure", description="Run a procedure and record it.")
    p.add_argument("procedure", help="procedure file (YAML)")
    p.add_argument("--bench", help="bench file instead of the one the procedure names")
    p.add_argument("--sim", action="store_true", help="run on the bench's simulated instruments")
    p.add_argument("--seed", type=int, help="simulation seed (default: the bench file's)")
    p.add_argument(
        "--speed", type=float, help="simulated seconds per real second (default: as fast as possible)"
    )
    p.add_argument("--data-dir", help="where run records go (default: the user's data directory)")
    p.add_argument("--yes", action="store_true", help="answer every operator prompt with yes")
    p.add_argument(
        "--allow-expired-calibration",
        action="store_true",
        help="run although a gauge, thermometer or leak standard is out of calibration (the record says so)",
    )
    p.add_argument("--operator", help="who runs the test (default: the login name)")
    p.add_argument(
        "--json", action="store_true", help="end with one JSON line: run_id, verdict, measurements"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig run``; exit 0 PASS, 1 FAIL, 2 invalid input, 3 ABORTED, 4 INCONCLUSIVE."""
    procedure = load_or_report(args.procedure, args.bench)
    if procedure is None:
        return EXIT_INVALID
    from rig.engine.runner import EXIT_CODES, STATUS, Runner

    if args.speed is not None and not 0.0 < args.speed <= MAX_SPEED:
        raise InputError(
            f"--speed must be a number above 0 and at most {MAX_SPEED:g}, got {args.speed}: faster, one "
            "sample period passes before the instruments can answer (leave --speed out to run as fast "
            "as possible)"
        )
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise InputError(f"--seed must be a whole number from 0 to 2**32 - 1, got {args.seed}")
    bench = procedure.bench
    from rig.engine.calibration import calibration_day, calibration_report

    checked_on = calibration_day(bench, args.sim)
    calibrations, problems = calibration_report(procedure, checked_on)
    if problems and not args.allow_expired_calibration:
        for problem in problems:
            print(f"calibration: {problem}", file=sys.stderr)
        raise InputError(
            f"refused: {len(problems)} calibration problem(s) on {checked_on} (listed above); recalibrate, "
            "or run with --allow-expired-calibration and the record and certificate will say so"
        )

    from rich.console import Console

    from rig.clock import Clock, ScaledClock, VirtualClock, WallClock
    from rig.engine.live_view import LiveView
    from rig.engine.session import RigSession
    from rig.record.run_store import RunStore

    store = RunStore(args.data_dir)
    with ExitStack() as stack:
        clock: Clock = WallClock()
        if args.sim:
            clock = ScaledClock(args.speed) if args.speed else VirtualClock()
        access = open_bench(bench, sim=args.sim, clock=clock, stack=stack, seed=args.seed)
        session = stack.enter_context(RigSession(bench, access.resources))
        files = {"procedure.yaml": Path(procedure.source).read_text()}
        if bench.source:
            files["bench.yaml"] = Path(bench.source).read_text()
        procedure_text = files["procedure.yaml"].encode("utf-8")  # the hash of the copy the run keeps
        metadata: dict[str, Any] = {
            "sim": args.sim,
            "seed": args.seed,
            "operator": args.operator or _login(),
            "software": {"rig": __version__, "python": platform.python_version()},
            "procedure_sha256": hashlib.sha256(procedure_text).hexdigest(),
            "identities": session.identities(),
            "settings": session.settings(),
            "calibration_checked_on": checked_on.isoformat(),
            "calibrations": calibrations,
        }
        if problems:
            metadata["calibration_override"] = problems
            for problem in problems:
                print(f"calibration (overridden): {problem}", file=sys.stderr)
        writer = store.create(procedure.name, bench.name, list(bench.channels), metadata, files)
        answer = None if (args.yes or args.sim) else _ask
        act = access.simulation.act if access.simulation is not None else None
        # On stderr, so that stdout stays the one JSON line a script reads.
        view = stack.enter_context(LiveView(bench, clock.now, Console(stderr=True)))
        runner = Runner(procedure, session, clock, writer, answer, observer=view, act=act)
        previous = signal.signal(signal.SIGINT, lambda *_: runner.request_stop())
        try:
            outcome = runner.run()
        finally:
            signal.signal(signal.SIGINT, previous)
        # Sealed once everything is written (any later change to any file shows in `rig verify`),
        # and before the index marks the run ended: an ended run is a sealed one.
        status = STATUS[outcome.verdict]
        writer.finish(status, outcome.verdict.value, outcome.reason, outcome.results(), seal=seal_run)
    summary = {
        "run_id": writer.run_id,
        "run_dir": str(writer.run_dir),
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "measurements": {
            name: {"value": m["value"], "unit": m["unit"], "outcome": m["outcome"]}
            for name, m in outcome.measurements.items()
        },
        **outcome.findings,
    }
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(f"{outcome.verdict.value}: {outcome.reason} (run {writer.run_id}, {writer.run_dir})")
    return EXIT_CODES[outcome.verdict]


def _ask(message: str) -> bool:
    try:
        return input(f"{message} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"
