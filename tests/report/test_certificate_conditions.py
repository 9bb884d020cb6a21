"""The certificate states the test conditions, and every limit and rate in the unit the procedure wrote.

The ISS segment search writes its limit as ``0.1 lb/day``: its certificate must say 0.1 lb/day
with Pa·m³/s beside it, never the 24.4 sccm it once showed. The pressure decay's certificate
states the gas, the measured test pressure at the start and end of the window, the fill,
stabilisation and test times and the temperature span. Both are rendered from the PDF to PNG
(in /tmp/cert_pages/ for a person to look at) and read back from the PDF's own text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from rig.cli import main
from rig.record import RunRecord
from rig.report.certificate import load_certificate, write_certificate
from rig.report.rate_text import format_number
from tests.engine.sim_runs import ISS, PROCEDURES

pytestmark = pytest.mark.integration

PAGES_FOR_PEOPLE = Path("/tmp/cert_pages")
NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def rig_run(data: Path, capsys: pytest.CaptureFixture[str], procedure: str, *extra: str) -> Path:
    argv = ["run", str(PROCEDURES / f"{procedure}.yaml"), "--sim", "--data-dir", str(data), "--json"]
    main([*argv, *extra])
    return Path(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_dir"])


def pdf_text(pdf: Path, stem: str) -> str:
    """The PDF's text, its pages rendered to PNG beside it and in /tmp/cert_pages/."""
    PAGES_FOR_PEOPLE.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(pdf)
    texts = []
    try:
        for i in range(len(document)):
            page = document[i]
            image = page.render(scale=1.5).to_pil()
            image.save(pdf.parent / f"{stem}-page{i + 1}.png")
            image.save(PAGES_FOR_PEOPLE / f"{stem}-page{i + 1}.png")
            texts.append(page.get_textpage().get_text_range())
    finally:
        document.close()
    return " ".join(" ".join(texts).split())


def test_the_iss_certificate_states_its_limit_in_lb_per_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = rig_run(tmp_path, capsys, "compartment_isolation", "--bench", str(ISS))
    _, pdf = write_certificate(run_dir, None, NOW)
    text = pdf_text(pdf, "iss-conditions")
    limit = RunRecord.load(run_dir).measurements["isolation.prk"].limit_pa_m3_s
    assert limit is not None
    assert f"0.1 lb/day = {format_number(limit)} Pa·m³/s" in text
    assert "24.4 sccm" not in text and "sccm (0 °C)" not in text
    prk = next(m for m in load_certificate(run_dir, None, NOW).measurements if m.name == "isolation.prk")
    shown = {f.label: f.value for f in prk.rows}
    assert shown["limit"].startswith("0.1 lb/day = ")
    assert shown["leak rate"].split(" ")[1] == "lb/day" and shown["test gas"] == "air"
    assert "lb/day" in (prk.e2930 or "")


def test_the_pressure_decay_certificate_states_its_test_conditions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = rig_run(tmp_path, capsys, "pressure_decay")
    measured = RunRecord.load(run_dir).measurements["decay"]
    conditions = measured.conditions
    assert conditions is not None
    _, pdf = write_certificate(run_dir, None, NOW)
    text = pdf_text(pdf, "decay-conditions")
    start, end = conditions.test_pressure_start_pa, conditions.test_pressure_end_pa
    assert start is not None and end is not None
    assert "test gas air" in text
    assert f"{start / 1e3:.6g} kPa at the start of the window, {end / 1e3:.6g} kPa at its end" in text
    assert conditions.fill_s is not None and conditions.stabilisation_s is not None
    assert (
        f"fill {conditions.fill_s / 60:.3g} min, stabilisation {conditions.stabilisation_s / 60:.3g} min"
        in text
    )
    assert "test 10 min" in text
    low, high = conditions.temperature_min_k, conditions.temperature_max_k
    assert low is not None and high is not None
    assert f"{low - 273.15:.2f} °C to {high - 273.15:.2f} °C" in text
    # The limit as written, 0.5 sccm, Pa·m³/s beside it; the expanded uncertainty too.
    assert measured.limit_pa_m3_s is not None
    assert f"0.5 sccm = {format_number(measured.limit_pa_m3_s)} Pa·m³/s" in text
    assert "expanded uncertainty (k = 2)" in text
