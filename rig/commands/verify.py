"""``rig verify RUN_DIR``: check that a run record is exactly as a trusted key sealed it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rig.record.integrity import describe, verify_run
from rig.record.trust import check_signer, fingerprint

EXIT_ALTERED = 1


def register(sub: Any) -> None:
    """Add the ``verify`` subcommand."""
    p = sub.add_parser(
        "verify",
        help="check a run directory against its signed manifest and the trusted keys",
        description=(
            "Check the signature of a run's manifest and the SHA-256 of every file in the run directory;"
            " name every file altered, added or missing since the run was sealed. The signer must be a"
            " key of the trust store (this rig's own key, or one added with `rig keys trust`), or the key"
            " given with --public-key. Reads only."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run directory")
    p.add_argument(
        "--public-key",
        metavar="HEX",
        help="require the manifest to be signed with this Ed25519 public key (the one on the certificate)"
        " instead of a key of the trust store",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig verify``: ``OK`` and exit 0 when intact and trusted, one line per finding and 1 if not.

    Exit 2 (one line, before anything is read) for a directory that is not a run directory.
    """
    if args.public_key is not None:
        report = verify_run(args.run_dir, args.public_key)
        trusted_by = "the key given"
    else:
        checked = check_signer(args.run_dir)
        for problem in checked.store.problems:
            print(f"rig verify: warning: {problem}", file=sys.stderr)
        report = checked.report
        trusted_by = checked.signer.source if checked.signer is not None else ""
    if not report.ok:
        for line in describe(report):
            print(line)
        return EXIT_ALTERED
    assert report.public_key is not None  # a record that verifies names its key
    print("OK")
    print(f"public key: {report.public_key} ({fingerprint(report.public_key)}, trusted: {trusted_by})")
    return 0
