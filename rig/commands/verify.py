"""``rig verify RUN_DIR``: check that a run record is exactly as a trusted key sealed it."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.record.integrity import describe, verify_run
from rig.record.trust import TrustedKey, check_signer, fingerprint

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


@dataclass(frozen=True)
class Verification:
    """What ``rig verify`` finds: ``lines`` as it prints them (``OK`` and the key line, or one line
    per finding), ``signer`` the trusted key that seals the record (None unless ``ok``),
    ``warnings`` the trust store's problems (printed to stderr)."""

    ok: bool
    lines: list[str]
    signer: TrustedKey | None
    public_key: str | None
    warnings: list[str]


def verification(run_dir: str | Path, public_key: str | None = None) -> Verification:
    """Check ``run_dir`` as ``rig verify`` does: against ``public_key`` (hex) if given, else the trust
    store. Reads only; a directory that is not a run directory raises :class:`rig.errors.InputError`."""
    warnings: list[str] = []
    signer = None
    if public_key is not None:
        report = verify_run(run_dir, public_key)
        trusted_by = "the key given"
    else:
        checked = check_signer(run_dir)
        warnings = list(checked.store.problems)
        report = checked.report
        signer = checked.signer
        trusted_by = signer.source if signer is not None else ""
    if not report.ok:
        return Verification(False, describe(report), None, report.public_key, warnings)
    assert report.public_key is not None  # a record that verifies names its key
    key_line = f"public key: {report.public_key} ({fingerprint(report.public_key)}, trusted: {trusted_by})"
    return Verification(True, ["OK", key_line], signer, report.public_key, warnings)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig verify``: ``OK`` and exit 0 when intact and trusted, one line per finding and 1 if not.

    Exit 2 (one line, before anything is read) for a directory that is not a run directory.
    """
    checked = verification(args.run_dir, args.public_key)
    for problem in checked.warnings:
        print(f"rig verify: warning: {problem}", file=sys.stderr)
    for line in checked.lines:
        print(line)
    return 0 if checked.ok else EXIT_ALTERED
