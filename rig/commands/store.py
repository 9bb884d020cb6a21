"""``rig store``: push sealed run records into the lab store (PostgreSQL), and pull one back.

``rig store push RUN_DIR...`` or ``rig store push --all --data-dir DIR``; ``rig store pull RUN_ID
--to DIR``. The store is ``--store URL`` or ``$LEAKRIG_STORE``. Listing and searching the store is
``rig runs --store URL``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rig.errors import InputError

EXIT_REFUSED = 1


def register(sub: Any) -> None:
    """Add the ``store`` subcommand and its ``push`` and ``pull``."""
    store = sub.add_parser(
        "store",
        help="push run records into the lab store (PostgreSQL), pull one back",
        description="The lab store: every bench's sealed run records in one PostgreSQL database.",
    )
    store_sub = store.add_subparsers(dest="store_command", required=True)
    push = store_sub.add_parser(
        "push",
        help="push sealed run records into the store",
        description=(
            "Store sealed run records (index, measurements, certificate metadata and every file) in the"
            " lab store. Idempotent and resumable: each run is stored whole in its own transaction, and a"
            " run already stored is left as it is. A record that does not verify against a trusted key, or"
            " whose run id the store holds with another manifest, is refused (one line each). Runs still"
            " running or interrupted are skipped with a note. Exit 0 when every record is stored or"
            f" already present, {EXIT_REFUSED} when any was refused (after pushing the others), 2 when the"
            " store cannot be reached or the input is bad (nothing pushed)."
        ),
    )
    push.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="run directories to push")
    push.add_argument(
        "--all",
        action="store_true",
        help="push every finished run of the data directory's index that the store does not hold yet",
    )
    push.add_argument("--data-dir", help="data directory for --all (default: the user's data directory)")
    _store_option(push)
    pull = store_sub.add_parser(
        "pull",
        help="write a stored run record back into a directory",
        description=(
            "Write the record of RUN_ID into DIR/RUN_ID, byte for byte as it was pushed;"
            " `rig verify` checks it."
        ),
    )
    pull.add_argument("run_id", metavar="RUN_ID", help="the run id (whole)")
    pull.add_argument("--to", required=True, metavar="DIR", help="directory to write the run directory into")
    _store_option(pull)
    store.set_defaults(handler=run)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="URL", help="the lab store, a PostgreSQL URL (default: $LEAKRIG_STORE)"
    )


def run(args: argparse.Namespace) -> int:
    """Execute ``rig store push`` or ``rig store pull``."""
    from rig.store.connection import open_store, store_url

    url = store_url(args.store)
    if args.store_command == "pull":
        from rig.store.pull import pull

        with open_store(url) as conn:
            target = pull(conn, args.run_id, Path(args.to))
        print(f"pulled {args.run_id} into {target}")
        return 0
    if args.all == bool(args.run_dirs):
        raise InputError("give RUN_DIR... or --all (with --data-dir), not both or neither")
    from rig.record.run_store import default_data_dir
    from rig.record.trust import load_trust_store
    from rig.store.push import Pusher

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.all and not data_dir.is_dir():
        # A mistyped --data-dir would otherwise push nothing and say "0 stored", exit 0: all well.
        raise InputError(f"--data-dir {data_dir}: no such directory")
    trust = load_trust_store()
    for problem in trust.problems:
        print(f"rig store: warning: {problem}", file=sys.stderr)
    with open_store(url) as conn:
        pusher = Pusher(conn, trust, stored=lambda run_id: print(f"stored {run_id}", flush=True))
        report = pusher.push_all(data_dir) if args.all else pusher.push_dirs([Path(d) for d in args.run_dirs])
    for line in report.skipped:
        print(f"rig store: {line}", file=sys.stderr)
    for line in report.refused:
        print(f"rig store: {line}", file=sys.stderr)
    print(report.summary())
    return EXIT_REFUSED if report.refused else 0
