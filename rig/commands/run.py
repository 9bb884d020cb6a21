"""``rig run PROCEDURE.yaml``: run a procedure on its bench (or its simulation) and record it.

:func:`launch` is the assembly (signing checked, calibration checked, the bench opened and
locked, the live view, stop signals, the record planned and sealed) that ``rig run`` and
:func:`rig.api.run` share.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import json
import platform
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rig import __version__
from rig.commands.bench_access import EXIT_INVALID, check_simulation_arguments, load_or_report
from rig.errors import InputError
from rig.record.integrity import seal_run
from rig.steps.context import Answer

if TYPE_CHECKING:
    from rig.config import Config
    from rig.engine.observer import RunObserver
    from rig.engine.runner import Runner
    from rig.execution.execute import Execution
    from rig.procedure.loader import Procedure


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
    p.add_argument(
        "--operator", help="who runs the test (default: the config file's operator, else the login name)"
    )
    p.add_argument("--part", metavar="NUMBER", help="part number of the article tested (recorded)")
    p.add_argument("--serial", metavar="NUMBER", help="serial number of the article tested (recorded)")
    p.add_argument(
        "--json", action="store_true", help="end with one JSON line: run_id, verdict, measurements"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig run``; exit 0 PASS, 1 FAIL, 2 invalid input, 3 ABORTED, 4 INCONCLUSIVE."""
    check_simulation_arguments(args.speed, args.seed)
    procedure = load_or_report(args.procedure, args.bench)
    if procedure is None:
        return EXIT_INVALID
    from rig.engine.runner import EXIT_CODES

    options = RunOptions(
        sim=args.sim,
        seed=args.seed,
        speed=args.speed,
        data_dir=args.data_dir,
        yes=args.yes,
        operator=args.operator,
        allow_expired_calibration=args.allow_expired_calibration,
        visa_library=getattr(args, "visa_library", None),
        config=getattr(args, "config", None),
        part=args.part,
        serial=args.serial,
    )
    launched = launch(procedure, options)
    outcome = launched.executed.outcome
    if not launched.executed.started:
        return _aborted_before_start(outcome.reason, as_json=args.json, seed=launched.seed)
    for problem in launched.executed.record_problems:
        print(f"rig run: record: {problem}", file=sys.stderr)
    _print_outcome(launched.run_id, launched.run_dir, outcome, as_json=args.json, seed=launched.seed)
    return EXIT_CODES[outcome.verdict]


@dataclass(frozen=True)
class RunOptions:
    """How a procedure is run: ``rig run``'s options (:func:`rig.api.run` takes the same)."""

    sim: bool = False
    seed: int | None = None
    speed: float | None = None
    data_dir: str | Path | None = None  # None: the user's data directory
    yes: bool = False  # answer every operator prompt with yes (a simulation always does)
    operator: str | None = None  # None: the login name
    allow_expired_calibration: bool = False
    visa_library: str | None = None
    config: Config | None = None  # None: the user's configuration file (rig.config.load_config)
    # The station's (rig/station): who answers prompts instead of the terminal (or of yes to all,
    # with `yes` or in simulation), who else watches the run, what is told the runner and the
    # record's id once the run has begun, and where the run was started from (run.json).
    answer: Callable[[str], bool | Answer] | None = None
    observers: tuple[RunObserver, ...] = ()
    on_start: Callable[[Runner, str | None], None] | None = None
    started_from: str = "command line"
    # The article tested, as run.json's "article" records it (none recorded when both are None).
    part: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class Launched:
    """A run as :func:`launch` left it: executed (and recorded, unless it never started)."""

    executed: Execution
    seed: int | None  # the simulation's seed as used (None: a real bench)

    @property
    def run_id(self) -> str | None:
        """The recorded run's id (None: not recorded)."""
        return self.executed.run_id

    @property
    def run_dir(self) -> Path | None:
        """The recorded run's directory (None: not recorded)."""
        return self.executed.run_dir


def launch(procedure: Procedure, options: RunOptions) -> Launched:
    """Run ``procedure`` as ``rig run`` does, and record it: the one assembly ``rig run`` and
    :func:`rig.api.run` share.

    Refused (:class:`InputError`, before any instrument is contacted) when the run could not be
    signed or a calibration is out of date (unless allowed). The procedure's ``text`` and its
    bench's file are kept in the record as ``procedure.yaml`` and ``bench.yaml``. The live view
    goes to stderr; stop signals (Ctrl-C, SIGTERM, SIGHUP) stop the run cleanly when it runs in
    the main thread.
    """
    check_simulation_arguments(options.speed, options.seed)
    from rig.config import chosen_visa_library, data_dir, load_config
    from rig.record.run_store import RunStore
    from rig.record.trust import check_ready_to_sign

    # Here, not when the run is sealed at its end: a key or data directory at fault costs no test,
    # and is refused before any instrument is contacted.
    check_ready_to_sign()
    # What the options leave unsaid, the configuration says (as `rig` fills in its arguments).
    config = options.config if options.config is not None else load_config()
    visa = chosen_visa_library(options.visa_library, procedure.bench.visa_library, config)
    store = RunStore(data_dir(str(options.data_dir) if options.data_dir else None, config))
    store.prepare()
    bench = procedure.bench
    from rig.engine.calibration import calibration_day, calibration_report

    checked_on = calibration_day(bench, options.sim)
    calibrations, problems = calibration_report(procedure, checked_on)
    if problems and not options.allow_expired_calibration:
        for problem in problems:
            print(f"calibration: {problem}", file=sys.stderr)
        raise InputError(
            f"refused: {len(problems)} calibration problem(s) on {checked_on} (listed above); recalibrate, "
            "or run with --allow-expired-calibration and the record and certificate will say so"
        )

    from rig.clock import Clock, ScaledClock, VirtualClock, WallClock
    from rig.commands.consoles import status_console
    from rig.engine.live_view import LiveView
    from rig.execution.bench_access import open_bench
    from rig.execution.execute import RecordPlan, execute

    files = {"procedure.yaml": procedure.text}
    if bench.source:
        files["bench.yaml"] = Path(bench.source).read_text()
    procedure_text = files["procedure.yaml"].encode("utf-8")  # the hash of the copy the run keeps
    operator = options.operator or config.operator or _login()
    metadata: dict[str, Any] = {
        "sim": options.sim,
        "operator": operator,
        "started_from": options.started_from,
        "software": {"rig": __version__, "python": platform.python_version()},
        "procedure_sha256": hashlib.sha256(procedure_text).hexdigest(),
        "calibration_checked_on": checked_on.isoformat(),
        "calibrations": calibrations,
    }
    if problems:
        metadata["calibration_override"] = problems
    if options.part is not None or options.serial is not None:
        metadata["article"] = {"part": options.part, "serial": options.serial}
    with ExitStack() as stack:
        clock: Clock = WallClock()
        if options.sim:
            clock = ScaledClock(options.speed) if options.speed else VirtualClock()
        from drivers.transport import use_visa_library
        from rig.logging_setup import LoggingObserver

        stack.enter_context(use_visa_library(visa))
        # Locks the bench for the whole run, until this block ends: its safe state and seal included.
        access = open_bench(
            bench, sim=options.sim, clock=clock, stack=stack, seed=options.seed, command="rig run"
        )
        metadata["seed"] = access.seed  # the seed used, the bench file's default included
        for problem in problems:
            print(f"calibration (overridden): {problem}", file=sys.stderr)
        # Sealed once everything is written (any later change to any file shows in `rig verify`),
        # and before the index marks the run ended: an ended run is a sealed one.
        record = RecordPlan(store, metadata, files, seal=seal_run)
        answer = _answerer(options, operator)
        prompts_wait = options.answer is not None or not (options.yes or options.sim)

        def started(runner: Runner) -> None:
            # Stop signals go to the runner from its start until the run is sealed: one arriving
            # while the record is finished, or after, must not kill the process between the results
            # and the seal. The live view starts with the run (every instrument answered), on
            # stderr, so that stdout stays the one JSON line a script reads.
            if threading.current_thread() is threading.main_thread():  # where Python takes signals
                stack.enter_context(_stop_requests(runner))
            runner.events.add(
                stack.enter_context(LiveView(bench, clock.now, status_console(), prompts_wait=prompts_wait))
            )
            runner.events.add(LoggingObserver())
            for observer in options.observers:
                runner.events.add(observer)
            if options.on_start is not None:
                options.on_start(runner, runner.run_id)

        executed = execute(procedure, access, clock, record=record, answer=answer, prepare=started)
    return Launched(executed, access.seed)


def _print_outcome(
    run_id: str | None, run_dir: Path | None, outcome: Any, *, as_json: bool, seed: int | None = None
) -> None:
    # Every measurement's value, U (k = 2), limit and outcome, in the procedure's unit (as recorded).
    from rig.commands.run_summary import measurement_json, measurement_line, recorded_measurements

    measured = recorded_measurements(run_dir, outcome.measurements)
    summary = {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "measurements": {name: measurement_json(m) for name, m in measured.items()},
        **outcome.findings,
    }
    if seed is not None:
        summary["seed"] = seed  # a simulated run: the seed that reproduces it
    if as_json:
        print(json.dumps(summary, default=str))
    else:
        for name, m in measured.items():
            print(measurement_line(name, m))
        print(f"{outcome.verdict.value}: {outcome.reason} (run {run_id}, {run_dir})")


# A terminal closed (SIGHUP) or a service manager stopping the controller (SIGTERM) is a
# request to stop, like Ctrl-C: the bench must end in its safe state, never be left mid-fill.
STOP_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


@contextlib.contextmanager
def _stop_requests(runner: Any) -> Iterator[None]:
    """Route the stop signals to ``runner.request_stop`` for as long as the run goes on."""
    previous = {
        sig: signal.signal(
            sig, lambda number, _frame: runner.request_stop(STOP_SIGNALS[signal.Signals(number)])
        )
        for sig in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _aborted_before_start(reason: str, *, as_json: bool, seed: int | None = None) -> int:
    """An instrument failed before the run began: say so in one line, exit 3 (no run is recorded)."""
    from rig.engine.runner import EXIT_CODES, RunVerdict

    print(f"rig run: ABORTED: {reason}", file=sys.stderr)
    if as_json:
        # The same keys as a run's line, so that a script reads one shape.
        summary = {"run_id": None, "run_dir": None, "verdict": RunVerdict.ABORTED.value, "reason": reason}
        seeded = {} if seed is None else {"seed": seed}
        print(json.dumps({**summary, "measurements": {}, **seeded}))
    return EXIT_CODES[RunVerdict.ABORTED]


def _answerer(options: RunOptions, operator: str) -> Callable[[str], bool | Answer]:
    """Who answers the prompts: the caller's, else yes to all (``--yes``, simulation), else the terminal."""
    if options.answer is not None:
        return options.answer
    if options.yes or options.sim:
        origin = "--yes" if options.yes else "simulation"
        return lambda _message: Answer.now(True, "automatic", origin)

    def ask(message: str) -> Answer:
        try:
            yes = input(f"{message} [y/N] ").strip().lower() in ("y", "yes")
        except EOFError:
            yes = False
        return Answer.now(yes, operator, "terminal")

    return ask


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"
