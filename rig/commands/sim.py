"""``rig sim serve``: run a simulated bench's instruments for other programs to talk to."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from rig.bench import load_bench
from rig.clock import ScaledClock
from rig.commands.bench_access import check_simulation_arguments
from rig.errors import InputError


def register(sub: Any) -> None:
    """Add the ``sim`` subcommand group."""
    sim = sub.add_parser("sim", help="simulated benches", description="Simulated benches.")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    serve = sim_sub.add_parser(
        "serve",
        help="serve a simulated bench's instruments on 127.0.0.1",
        description=(
            "Start one protocol-faithful server per instrument of a simulated bench and print, as the first "
            "line on stdout, a JSON object mapping each instrument to its model and VISA resource. Serves "
            "until SIGINT or SIGTERM."
        ),
    )
    serve.add_argument("--bench", required=True, help="simulated bench file (YAML with a physics: part)")
    serve.add_argument("--seed", type=int, help="random seed (default: the bench file's physics.seed)")
    serve.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second (default 1: real time)"
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Execute ``rig sim serve``."""
    check_simulation_arguments(args.speed, args.seed)
    bench = load_bench(args.bench)
    if not bench.simulated:
        raise InputError(f"{args.bench}: bench {bench.name!r} has no physics: part and cannot be simulated")
    from rig.sim.simulated_rig import SimulatedRig

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SimulatedRig(bench, ScaledClock(args.speed), seed=args.seed) as rig:
            print(json.dumps(rig.resources()), flush=True)
            print(
                f"serving {bench.name} at {args.speed:g}x real time; Ctrl-C or SIGTERM stops",
                file=sys.stderr,
                flush=True,
            )
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
