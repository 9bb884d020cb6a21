"""The leak-test certificate of a run: a self-contained HTML page and an A4 PDF saying the same.

:func:`write_certificate` reads a run directory (``run.json``, ``results.json``,
``samples.csv``, ``procedure.yaml``, ``bench.yaml``), gathers what a reviewer needs into one
view model (:class:`Certificate`) and renders it twice: to HTML with jinja2 (autoescaped, CSS
inline, the plots as base64 PNG data URIs, so the one file is the whole certificate) and to a
PDF with reportlab (A4, "page i of n", tables that split across pages, plots scaled to the
text width). Both renderings come from the same view model, so they state the same facts.

The parts, one concept a module: :class:`rig.record.run_record.RunRecord` reads the run back
(typed, tolerant of what older records lack), :mod:`~rig.report.certificate_view` and
:mod:`~rig.report.measurement_view` gather the view model (:mod:`~rig.report.recorded_text`
words what a record does not hold as "not recorded"), :mod:`~rig.report.certificate_plot`
draws a measurement, and :mod:`~rig.report.certificate_html` and
:mod:`~rig.report.certificate_pdf` render it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rig.errors import InputError
from rig.record.atomic import write_atomically
from rig.report.certificate_html import render_html
from rig.report.certificate_pdf import render_pdf
from rig.report.certificate_view import Certificate, load_certificate

__all__ = ["Certificate", "load_certificate", "render_html", "render_pdf", "write_certificate"]


def write_certificate(
    run_dir: Path, public_key_hex: str | None = None, now: datetime | None = None
) -> tuple[Path, Path]:
    """Write ``certificate.html`` and ``certificate.pdf`` into ``run_dir``; return their paths (HTML, PDF).

    ``public_key_hex`` is the hex of the public key that verifies the run's signature (shown
    with how to check it; None: the certificate says it is not signed). ``now`` is the time
    of issue printed on it and stamped in the PDF (default: now); the same run, key and
    ``now`` give byte-identical files. A run without results raises
    :class:`rig.errors.InputError`.
    """
    run_dir = Path(run_dir)
    certificate = load_certificate(run_dir, public_key_hex, now)
    html_path, pdf_path = run_dir / "certificate.html", run_dir / "certificate.pdf"
    try:
        write_atomically(html_path, render_html(certificate).encode("utf-8"))
        write_atomically(pdf_path, render_pdf(certificate))
    except OSError as exc:
        raise InputError(f"cannot write the certificate into {run_dir}: {exc.strerror or exc}") from None
    return html_path, pdf_path
