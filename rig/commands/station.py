"""``rig station --bench BENCH.yaml``: the bench's live page in a browser, its runs, their records.

The first line on stdout is one JSON object with the page's ``url`` and the operator's ``token``;
the rest goes to stderr. The station listens on 127.0.0.1 unless ``--host`` says otherwise; then
its pages, too, need the token. Stop it with Ctrl-C: a run going on stops first, in its safe state.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rig.errors import InputError


def register(sub: Any) -> None:
    """Add the ``station`` subcommand."""
    p = sub.add_parser(
        "station",
        help="serve the bench's live page (runs started, watched and answered in a browser)",
        description=(
            "Serve a web page for one bench: its procedures, the run going on (trace, step, ETA, live leak"
            " rate, prompts, verdict) and the recorded runs. Prints one JSON line with url and token first."
        ),
    )
    p.add_argument("--bench", help="the bench file (default: the config file's bench)")
    p.add_argument("--sim", action="store_true", help="run procedures on the bench's simulated instruments")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free one)")
    p.add_argument("--data-dir", help="where run records go (default: the user's data directory)")
    p.add_argument(
        "--operator", help="who answers at this station (default: the config file's, else the login)"
    )
    p.add_argument(
        "--speed", type=float, help="simulated seconds per real second (default: as fast as possible)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig station``: serve until stopped (exit 0); bad arguments exit 2 before anything listens."""
    from rig.bench import load_bench
    from rig.commands.bench_access import check_simulation_arguments
    from rig.commands.run import _login
    from rig.config import chosen_visa_library, load_config
    from rig.record.run_store import RunStore, default_data_dir
    from rig.record.trust import check_ready_to_sign
    from rig.station.access import Access, is_loopback, new_token
    from rig.station.control import Station, StationSettings
    from rig.station.prompts import PromptBroker, read_terminal
    from rig.station.server import bind, serve, url_of

    config = getattr(args, "config", None) or load_config()
    bench_file = args.bench or config.bench
    if bench_file is None:
        raise InputError("--bench is required (and the config file names no `bench`)")
    check_simulation_arguments(args.speed, None)
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be from 0 to 65535, got {args.port}")
    bench = load_bench(bench_file)
    if args.sim and not bench.simulated:
        raise InputError(f"{bench_file}: bench {bench.name!r} has no physics: part; --sim needs one")
    # Refused now, not at the first run: a key or data directory at fault is told before anything listens.
    check_ready_to_sign()
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    RunStore(data_dir).prepare()
    visa = chosen_visa_library(getattr(args, "visa_library", None), bench.visa_library, config)
    operator = args.operator or config.operator or _login()
    terminal = sys.stderr if sys.stdin.isatty() else None
    broker = PromptBroker(operator, terminal)
    settings = StationSettings(
        bench_path=Path(bench_file),
        sim=args.sim,
        data_dir=data_dir,
        operator=operator,
        speed=args.speed,
        visa_library=visa,
        config=config,
    )
    station = Station(settings, bench, broker)
    loopback = is_loopback(args.host)
    access = Access(config.station_token or new_token(), open_reads=loopback)
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    url = url_of(sock)
    if not loopback:
        print(f"rig station: listening on {args.host}: every page needs the token", file=sys.stderr)
    print(
        f"rig station: {bench.name}{' (simulated)' if args.sim else ''} at {url}; runs in {data_dir}",
        file=sys.stderr,
    )
    if terminal is not None:
        read_terminal(broker)
    serve(
        station,
        access,
        sock,
        {"url": url, "token": access.token, "bench": bench.name, "sim": args.sim, "data_dir": str(data_dir)},
    )
    return 0
