"""``rig verify RUN_DIR``: check that a run record is exactly as it was sealed."""

from __future__ import annotations

import argparse
from typing import Any

from rig.record.integrity import describe, verify_run

EXIT_ALTERED = 1


def register(sub: Any) -> None:
    """Add the ``verify`` subcommand."""
    p = sub.add_parser(
        "verify",
        help="check a run directory against its signed manifest",
        description=(
            "Check the signature of a run's manifest and the SHA-256 of every file in the run directory;"
            " name every file altered, added or missing since the run was sealed."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run directory")
    p.add_argument(
        "--public-key",
        metavar="HEX",
        help="require the manifest to be signed with this Ed25519 public key (the one on the certificate);"
        " without it, anyone who re-sealed the run with a key of their own would pass",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig verify``: ``OK`` and exit 0 when intact, one line per finding and exit 1 otherwise."""
    report = verify_run(args.run_dir, args.public_key)
    if not report.ok:
        for line in describe(report):
            print(line)
        return EXIT_ALTERED
    print("OK")
    if args.public_key is not None:
        print(f"public key: {report.public_key} (the trusted key given)")
    else:
        # Intact means unchanged since sealed; who sealed it is only known by comparing the key.
        print(f"public key: {report.public_key} (compare it with the certificate's, or pass --public-key)")
    return 0
