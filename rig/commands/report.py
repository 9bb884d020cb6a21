"""``rig report RUN_DIR``: the run's certificate, as HTML and PDF, in the run directory.

A certificate is only written for a record that is intact and was sealed by this rig's own
key: the run's signed manifest is checked first against the trust store, and after the
certificate files are added the run is sealed again with the same key (whose public half the
certificate shows), so that the certificate is covered by the same signature as the data it
speaks for. A record sealed by any other key, trusted or not, is refused and left as it is:
re-sealing it with ours would vouch for data this rig did not record.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rig.errors import InputError

CERTIFICATE_FILES = ("certificate.html", "certificate.pdf")


def register(sub: Any) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write a run's certificate (HTML and PDF) into its directory",
        description="Write certificate.html and certificate.pdf for a recorded run, and seal the run again.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run directory")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig report``: exit 0 with both files written; exit 2, the record untouched, if refused."""
    from rig.record.integrity import describe, load_or_create_key, public_key_hex, reseal_if_intact
    from rig.record.trust import check_ready_to_sign, check_signer
    from rig.report.certificate import write_certificate

    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").is_file():
        raise InputError(f"{run_dir}: not a run directory (no run.json)")
    check_ready_to_sign()
    checked = check_signer(run_dir)
    for problem in checked.store.problems:
        print(f"rig report: warning: {problem}", file=sys.stderr)
    report = checked.report
    stale = [name for name in report.altered + report.added if name not in CERTIFICATE_FILES]
    if stale or report.missing or report.problems or checked.signer is None:
        raise InputError(
            f"{run_dir}: refused, the record is not as a trusted key sealed it: {'; '.join(describe(report))}"
        )
    key = public_key_hex(load_or_create_key())
    if checked.signer.public_hex != key:
        raise InputError(
            f"{run_dir}: refused, the record is sealed by {checked.signer.describe()}, not by this rig's own"
            " key; it is not sealed again with ours (certify it on the rig that recorded it)"
        )
    html, pdf = write_certificate(run_dir, public_key_hex=key)
    # Against our key again: a seal swapped since the check above is refused, not signed over.
    reseal_if_intact(run_dir, adding=CERTIFICATE_FILES, trusted_public_key_hex=key)
    print(f"certificate written: {html} and {pdf}")
    print(f"run sealed with public key {key} (check it with: rig verify {run_dir} --public-key {key})")
    return 0
