"""``rig report RUN_DIR``: the run's certificate, as HTML and PDF, in the run directory.

A certificate is only written for a record that is intact: the run's signed manifest is
checked first, and after the certificate files are added the run is sealed again (with
this machine's key, whose public half the certificate shows), so that the certificate is
covered by the same signature as the data it speaks for.
"""

from __future__ import annotations

import argparse
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
    """Execute ``rig report``: exit 0 with both files written; exit 2 for a missing or altered run."""
    from rig.record.integrity import (
        describe,
        load_or_create_key,
        public_key_hex,
        reseal_if_intact,
        verify_run,
    )
    from rig.report.certificate import write_certificate

    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").is_file():
        raise InputError(f"{run_dir}: not a run directory (no run.json)")
    report = verify_run(run_dir)
    stale = [name for name in report.altered + report.added if name not in CERTIFICATE_FILES]
    if stale or report.missing or report.problems:
        raise InputError(
            f"{run_dir}: refused, the record is not as it was sealed: {'; '.join(describe(report))}"
        )
    key = public_key_hex(load_or_create_key())
    html, pdf = write_certificate(run_dir, public_key_hex=key)
    reseal_if_intact(run_dir, adding=CERTIFICATE_FILES)
    print(f"certificate written: {html} and {pdf}")
    print(f"run sealed with public key {key} (check it with: rig verify {run_dir} --public-key {key})")
    return 0
