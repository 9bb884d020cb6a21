"""The leak-test certificate: HTML and PDF of a real simulated run and of a run with every optional field.

The PDF is looked at page by page as images (rendered to PNG with pypdfium2): every page
renders and carries ink, page 1 shows the verdict in its colour, a page carries the decay
plot, and the text layer holds the verdict, the run id and "page i of n". The PNGs are
saved under the test's tmp_path (paths printed, see ``pytest -s``) and, for a person to
look at, in /tmp/cert_pages/.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import json
import math
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib.colors
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from PIL import Image

from rig.errors import InputError
from rig.report.certificate import load_certificate, write_certificate
from rig.report.certificate_html import TEMPLATE
from rig.report.certificate_view import OVERRIDE_TEXT
from rig.report.measurement_view import VERDICT_COLOURS
from rig.report.run_plot import FIT_COLOUR
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, convert_leak_rate

ROOT = Path(__file__).resolve().parents[2]
PAGES_FOR_PEOPLE = Path("/tmp/cert_pages")
KEY = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
RENDER_SCALE = 1.5  # 108 dpi: enough to count a colour's pixels and read a page
# The fitted line's colour (tab:orange), which nothing else on a certificate uses.
FIT_RGB = tuple(round(255 * c) for c in matplotlib.colors.to_rgb(FIT_COLOUR))
INJECTED = "<script>alert('pwned')</script>"
OVERRIDE = ["t_article: calibration expired on 2026-01-01", "cal_leak: no calibration record"]
REFUSAL = "the test resolves 4.1e-06 Pa·m³/s, more than a tenth of the limit (ASTM E2930)"


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def pixels_of(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels are within ``tolerance`` of ``rgb`` on every channel."""
    a = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int(np.all(np.abs(a - np.array(rgb, dtype=np.int16)) <= tolerance, axis=-1).sum())


def ink(image: Image.Image) -> float:
    """The fraction of pixels that are not (near) white."""
    a = np.asarray(image.convert("L"))
    return float((a < 240).mean())


def sci(x: float) -> str:
    """Three significant digits with a short exponent, as certificates print leak rates (5.00e-4)."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def squash(text: str) -> str:
    """Whitespace (line breaks of the PDF's wrapping included) as single spaces."""
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- a hand-made run

WINDOW_BEFORE = (200.0, 500.0)
WINDOW_AFTER = (700.0, 1300.0)
VOLUME_M3 = 1e-3
SLOPE_BEFORE, SLOPE_AFTER = -0.5, -0.02  # Pa/s: 5e-4 and 2e-5 Pa·m³/s in 1 L
P_START = 2.0e5


def article_pa(t: float) -> float:
    if t < WINDOW_BEFORE[0]:
        return P_START
    if t <= WINDOW_BEFORE[1]:
        return P_START + SLOPE_BEFORE * (t - WINDOW_BEFORE[0])
    if t < WINDOW_AFTER[0]:
        return P_START
    if t <= WINDOW_AFTER[1]:
        return P_START + SLOPE_AFTER * (t - WINDOW_AFTER[0])
    return 101_325.0


def write_every_field_run(run_dir: Path) -> Path:
    """A run directory as a newer controller writes it, with every optional field filled in."""
    run_dir.mkdir(parents=True)
    procedure = (
        "procedure: seal_repair_handmade\nversion: 1\nbench: benches/handmade.yaml\n"
        f'description: "repaired seal {INJECTED} & friends"\nsample_period: 1 s\n'
        "main:\n"
        "  - measure_decay: {name: before_repair, channel: p_article, volume: article, duration: 5 min}\n"
        "  - measure_decay: {name: after_repair, channel: p_article, temperature: t_article, volume: article,"
        " duration: 10 min, limit: 0.012 sccm}\n"
    )
    (run_dir / "procedure.yaml").write_text(procedure)
    (run_dir / "bench.yaml").write_text(
        "bench: handmade\ndescription: a 1 L article on one gauge and one thermocouple\n"
        "instruments:\n  gauges: {model: TPG362}\n  daq: {model: DAQ970A}\n"
        "volumes:\n  article: {size: 1 L, uncertainty: 0.01 L}\n"
        "channels:\n"
        "  p_article: {instrument: gauges, channel: 2, measures: pressure, volume: article}\n"
        "  t_article: {instrument: daq, channel: 102, measures: temperature, volume: article}\n"
        "valves:\n  cal_leak: {instrument: daq, channel: 206, between: [leak_standard, article]}\n"
        "safe_state: {cal_leak: closed}\n"
    )
    rng = np.random.default_rng(7)
    lines = ["time,step,p_article,t_article"]
    for i in range(1400):
        t = float(i)
        step = "measure_decay" if WINDOW_BEFORE[0] <= t <= WINDOW_BEFORE[1] else "wait"
        # The gas wanders after the repair only, where the line is of p·T_ref/T.
        temperature = T_TWENTY_C_K + (0.05 * math.sin(t / 200.0) if t >= WINDOW_AFTER[0] - 100.0 else 0.0)
        # The after-repair line is of p·T_ref/T: the raw pressure carries the temperature's wiggle.
        p = article_pa(t) * (temperature / T_TWENTY_C_K) + rng.normal(0.0, 0.3)
        cells = [repr(t), step, repr(p), repr(temperature)]
        if i in (250, 251):
            cells[2] = ""  # a dropout in the window: a gap, never a guess
        lines.append(",".join(cells))
    (run_dir / "samples.csv").write_text("\n".join(lines) + "\n")
    (run_dir / "events.jsonl").write_text('{"t": 0.0, "kind": "step", "message": "x", "step": "fill"}\n')
    info = {
        "run_id": "20261126-093000-abcdef",
        "procedure": "seal_repair_handmade",
        "bench": "handmade",
        "started": "2026-11-26T09:30:00+0000",
        "sim": False,
        "seed": None,
        "operator": "A. Technician",
        "software": {"rig": "0.1.0", "python": "3.11.7"},
        "procedure_sha256": hashlib.sha256(procedure.encode()).hexdigest(),
        "identities": {
            "gauges": "TPG362,PTG28290,44990123,010100,010000",
            "daq": "Keysight,DAQ970A,MY123,A.03",
        },
        "settings": {},
        "calibrations": {
            "p_article": {
                "certificate": "CAL-2026-0042",
                "date": "2026-03-01",
                "due": "2027-03-01",
                "uncertainty": 0.0015,
                "uncertainty_unit": "relative",
                "status": "current",
            },
            "t_article": {
                "certificate": "CAL-2025-0007",
                "date": "2025-01-01",
                "due": "2026-01-01",
                "uncertainty": 0.3,
                "uncertainty_unit": "K",
                "status": "expired",
            },
            "cal_leak": {"status": "missing"},
        },
        "calibration_checked_on": "2026-11-26",
        "calibration_override": OVERRIDE,
    }
    (run_dir / "run.json").write_text(json.dumps(info, indent=2))

    def entry(window: tuple[float, float], slope: float, compensated: float | None) -> dict[str, Any]:
        value = -VOLUME_M3 * slope
        return {
            "value": value,
            "unit": "Pa*m**3/s",
            "stderr": 0.12 * value,
            "ucl95": 1.2 * value,
            "lcl95": 0.8 * value,
            "n": int(window[1] - window[0]) + 1,
            "channel": "p_article",
            "window_s": list(window),
            "line": {
                "t0_s": window[0],
                "intercept_pa": P_START,
                "slope_pa_s": slope,
                "compensated_to_k": compensated,
            },
        }

    before = entry(WINDOW_BEFORE, SLOPE_BEFORE, None) | {"outcome": "MEASURED"}
    after = entry(WINDOW_AFTER, SLOPE_AFTER, T_TWENTY_C_K) | {
        "outcome": "INCONCLUSIVE",
        "limit": 2.2e-5,
        "additional_time_s": 1200.0,
        "uncertainty": {
            "fit": 1.9e-6,
            "resolution": 9.0e-7,
            "volume": 2.0e-7,
            "gauge_calibration": 5.0e-8,
            "temperature": 3.0e-7,
            "combined": 2.4e-6,
        },
        "e2930": {"test_resolution": 4.1e-6, "required": 2.2e-6, "met": False},
        "refusal": f"not certified: {REFUSAL}",  # as the engine words it
    }
    results = {
        "verdict": "INCONCLUSIVE",
        "reason": "after_repair: the 95 % bounds straddle the limit",
        "safe_state_confirmed": True,
        "measurements": {"before_repair": before, "after_repair": after},
        "faults": {"failed_reads": {}, "dropouts": {"p_article": 2}, "driver": {"gauges": {"retries": 1}}},
        "comparisons": [
            {
                "name": "seal repair",
                "before": "before_repair",
                "after": "after_repair",
                "reduction_factor": 24.7,
                "interval95": [18.9, 33.6],
            },
            # A repaired leak indistinguishable from none: the record writes the bound as Infinity.
            {
                "name": "unbounded",
                "before": "before_repair",
                "after": "after_repair",
                "reduction_factor": math.inf,
                "interval95": [12.5, math.inf],
            },
        ],
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    return run_dir


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Generated:
    """A run directory and the certificate written for it."""

    run_dir: Path
    html: Path
    pdf: Path
    seconds: float

    @property
    def info(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "run.json").read_text()))

    @property
    def results(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "results.json").read_text()))

    def text(self) -> str:
        return self.html.read_text(encoding="utf-8")


def generate(run_dir: Path) -> Generated:
    start = time.perf_counter()
    html, pdf = write_certificate(run_dir, KEY, NOW)
    return Generated(run_dir, html, pdf, time.perf_counter() - start)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The shipped pressure-decay procedure run once in simulation (about 4 s), and its certificate."""
    data = tmp_path_factory.mktemp("data")
    done = subprocess.run(
        [sys.executable, "-m", "rig", "run", str(ROOT / "procedures" / "pressure_decay.yaml"), "--sim",
         "--data-dir", str(data), "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_dir = Path(json.loads(done.stdout.strip().splitlines()[-1])["run_dir"])
    return generate(run_dir)


@pytest.fixture(scope="module")
def every_field(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The hand-made run with every optional field, and its certificate."""
    return generate(write_every_field_run(tmp_path_factory.mktemp("handmade") / "run"))


# --------------------------------------------------------------------------- HTML


def data_uri_pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


@pytest.mark.integration
def test_html_of_a_simulated_run_states_the_verdict_numbers_hash_and_key(sim_run: Generated) -> None:
    html = sim_run.text()
    results, info = sim_run.results, sim_run.info
    ((name, entry),) = results["measurements"].items()
    assert results["verdict"] == "PASS"
    assert ">PASS<" in html and VERDICT_COLOURS["PASS"] in html
    assert results["reason"] in html
    assert info["run_id"] in html and info["started"] in html
    value = entry["value"]
    sccm = convert_leak_rate(value, "sccm", pv_temperature_k=T_TWENTY_C_K, sccm_reference_k=T_ZERO_C_K)
    # In the unit the procedure wrote its limit in (sccm), Pa·m³/s beside it.
    assert f"{sccm:.3g} sccm = {sci(value)} Pa·m³/s" in html
    limit_sccm = convert_leak_rate(entry["limit"], "sccm", pv_temperature_k=T_TWENTY_C_K)
    assert f"{limit_sccm:.3g} sccm = {sci(entry['limit'])} Pa·m³/s" in html  # the procedure's 0.5 sccm
    for bound in ("ucl95", "lcl95"):
        assert f"{sci(entry[bound])} Pa·m³/s" in html
    # Recorded by the run, or (an older run) computed from procedure.yaml: the same either way.
    assert hashlib.sha256((sim_run.run_dir / "procedure.yaml").read_bytes()).hexdigest() in html
    assert KEY in html and "rig verify RUN_DIR" in html
    assert "confirmed (relay readback and the pressures)" in html
    assert info.get("operator", "not recorded") in html
    # Self-contained: the one plot is inline, nothing is fetched.
    (png,) = data_uri_pngs(html)
    assert Image.open(io.BytesIO(png)).size[0] > 800
    assert not re.search(r'(src|href)="(https?:|//)', html)
    assert "<script" not in html.lower()
    assert f"{name}:" in html


# What run.json held before operators, software, hashes and calibrations were recorded.
OLDER_RUN_KEYS = ("run_id", "procedure", "bench", "started", "sim", "seed", "identities", "settings")


@pytest.mark.integration
def test_fields_an_older_run_lacks_read_not_recorded(sim_run: Generated, tmp_path: Path) -> None:
    run_dir = tmp_path / "older"
    shutil.copytree(sim_run.run_dir, run_dir)
    info = {k: v for k, v in sim_run.info.items() if k in OLDER_RUN_KEYS}
    (run_dir / "run.json").write_text(json.dumps(info))
    html = write_certificate(run_dir, None, NOW)[0].read_text(encoding="utf-8")
    assert "none given: this certificate is not signed" in html
    assert re.search(r"<th>operator</th><td[^>]*>not recorded</td>", html)
    assert re.search(r"<th>software</th><td[^>]*>not recorded</td>", html)
    assert "<h3>Calibrations</h3>\n<p>not recorded</p>" in html
    assert "The operator overrode the check" not in html
    assert "(of procedure.yaml; the run did not record one)" in html


def test_html_of_a_run_with_every_optional_field(every_field: Generated) -> None:
    html = every_field.text()
    info = every_field.info
    assert ">INCONCLUSIVE<" in html and VERDICT_COLOURS["INCONCLUSIVE"] in html
    assert "A. Technician" in html and "rig 0.1.0, python 3.11.7" in html
    assert info["procedure_sha256"] in html and "the run did not record one" not in html
    assert "44990123" in html  # the gauge's serial, in its identity
    # The calibrations, the lapsed ones in red, and the override in plain words.
    assert re.search(r'<td class="ok">current</td>', html)
    assert re.search(r'<td class="alert">expired</td>', html)
    assert re.search(r'<td class="alert">missing</td>', html)
    assert "CAL-2025-0007" in html and "2026-01-01" in html and "0.3 K" in html
    assert "0.15 % of reading" in html and "reference leak" in html and "<td>gauges</td>" in html
    assert OVERRIDE_TEXT.format(problems="; ".join(OVERRIDE)) in html
    # The measurement's extras: budget, E2930, refusal, further time.
    assert "combined standard uncertainty" in html and "2.40e-6" in html and "gauge calibration" in html
    assert "ASTM E2930 test resolution 4.10e-6 Pa·m³/s (required: 2.20e-6 Pa·m³/s): not met." in html
    assert f"This measurement cannot be certified: {REFUSAL}" in html
    assert "20 min" in html  # additional_time_s 1200
    assert "fell by a factor of 24.7 (95 % interval 18.9 to 33.6)" in html
    assert "the reduction factor has no upper bound (95 % interval: at least 12.5)" in html
    assert "2.20e-5 Pa·m³/s = 0.0121 sccm (0 °C)" in html  # the limit
    # One plot per fitted measurement.
    assert len(data_uri_pngs(html)) == 2
    # The injected markup in the procedure's description is text, not markup.
    assert "<script" not in html.lower()
    assert "repaired seal &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; friends" in html
    assert "no: real instruments" in html


def test_a_recorded_hash_that_does_not_match_the_file_is_flagged(
    every_field: Generated, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(every_field.run_dir, run_dir)
    (run_dir / "procedure.yaml").write_text(
        (run_dir / "procedure.yaml").read_text() + "# edited afterwards\n"
    )
    cert = load_certificate(run_dir, KEY, NOW)
    (sha,) = [f for f in cert.provenance if f.label == "procedure SHA-256"]
    assert sha.alert and "hashes to" in sha.value


def test_a_run_without_results_has_no_certificate(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(InputError, match=r"results\.json: missing"):
        write_certificate(tmp_path, KEY, NOW)
    assert not (tmp_path / "certificate.html").exists()


def test_the_same_run_and_time_of_issue_give_the_same_files(every_field: Generated, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(every_field.run_dir, run_dir)
    html, pdf = write_certificate(run_dir, KEY, NOW)
    assert html.read_bytes() == every_field.html.read_bytes()
    assert pdf.read_bytes() == every_field.pdf.read_bytes()


def test_the_template_is_package_data() -> None:
    """A non-editable install ships what pyproject's package-data globs match: the template must match one."""
    assert resources.files("rig.report").joinpath(TEMPLATE).is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["rig"]
    assert any(fnmatch.fnmatch(f"report/{TEMPLATE}", g) for g in globs)


# --------------------------------------------------------------------------- the PDF, page by page


@dataclass(frozen=True)
class Page:
    """One rendered page: its image, where it was saved, its text layer."""

    image: Image.Image
    png: Path
    text: str


def render_pages(pdf_path: Path, out_dir: Path, stem: str) -> list[Page]:
    """Every page of ``pdf_path`` as a PNG in ``out_dir`` (and in /tmp/cert_pages/ for a person)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    PAGES_FOR_PEOPLE.mkdir(parents=True, exist_ok=True)
    pages = []
    document = pdfium.PdfDocument(pdf_path)
    try:
        for i in range(len(document)):
            page = document[i]
            image = page.render(scale=RENDER_SCALE).to_pil()
            png = out_dir / f"{stem}-page{i + 1}.png"
            image.save(png)
            image.save(PAGES_FOR_PEOPLE / png.name)
            text = page.get_textpage().get_text_range()
            pages.append(Page(image, png, text))
            print(f"rendered {png} (also {PAGES_FOR_PEOPLE / png.name})")
    finally:
        document.close()
    return pages


def check_pages(pages: list[Page], verdict: str, run_id: str) -> None:
    """What every certificate's pages must show."""
    assert pages, "the PDF has no page"
    n = len(pages)
    for number, page in enumerate(pages, start=1):
        assert page.image.size == (round(595.28 * RENDER_SCALE), round(841.89 * RENDER_SCALE))  # A4
        assert ink(page.image) > 0.005, f"page {number} is blank"
        assert f"page {number} of {n}" in page.text
    first = pages[0]
    assert "Leak-test certificate" in first.text and verdict in first.text and run_id in first.text
    assert "page 1 of" in first.text
    # The verdict's banner, in its colour, is on page 1 (tens of thousands of pixels at this scale).
    assert pixels_of(first.image, hex_rgb(VERDICT_COLOURS[verdict])) > 5000


def plot_pages(pages: list[Page]) -> list[int]:
    """The pages carrying a decay plot: the fitted line's orange, which nothing else on a certificate uses."""
    return [i for i, p in enumerate(pages, start=1) if pixels_of(p.image, FIT_RGB, tolerance=20) > 300]


@pytest.mark.integration
def test_pdf_of_a_simulated_run_page_by_page(sim_run: Generated, tmp_path: Path) -> None:
    pages = render_pages(sim_run.pdf, tmp_path, "simulated")
    check_pages(pages, "PASS", sim_run.info["run_id"])
    # The measurement's table is on page 1 and its plot follows: page 1 has (almost) none of the
    # fit's orange, so the count tells a page with the plot from one without.
    assert plot_pages(pages) and 1 not in plot_pages(pages)
    assert pixels_of(pages[0].image, FIT_RGB, tolerance=20) < 50
    everything = squash(" ".join(p.text for p in pages))
    assert KEY in everything.replace(" ", "") and "rig verify RUN_DIR" in everything
    assert "sccm (0 °C)" in everything and "Pa·m³/s" in everything
    print(
        f"certificate of the simulated run written in {sim_run.seconds:.2f} s: {sim_run.html}, {sim_run.pdf}"
    )


def test_pdf_of_a_run_with_every_optional_field_page_by_page(every_field: Generated, tmp_path: Path) -> None:
    pages = render_pages(every_field.pdf, tmp_path, "every-field")
    check_pages(pages, "INCONCLUSIVE", every_field.info["run_id"])
    assert len(plot_pages(pages)) >= 1
    everything = squash(" ".join(p.text for p in pages))
    # The injected markup is printed as text (a reportlab paragraph would otherwise parse it).
    assert INJECTED in everything
    assert squash(OVERRIDE_TEXT.format(problems="; ".join(OVERRIDE))) in everything
    assert squash(f"This measurement cannot be certified: {REFUSAL}") in everything
    assert "fell by a factor of 24.7 (95 % interval 18.9 to 33.6)" in everything
    assert "A. Technician" in everything and every_field.info["procedure_sha256"] in everything.replace(
        " ", ""
    )
    print(f"certificate of the hand-made run written in {every_field.seconds:.2f} s: {every_field.pdf}")


@pytest.mark.integration
def test_the_plots_span_the_text_width_within_the_margins(sim_run: Generated) -> None:
    """Each plot is placed at the text width (A4 less 18 mm a side), never past the page's edge."""
    margin, page_width = 18 * 72 / 25.4, 595.28
    document = pdfium.PdfDocument(sim_run.pdf)
    try:
        bounds = [
            image.get_bounds()
            for i in range(len(document))
            for image in document[i].get_objects(filter=(pdfium_raw.FPDF_PAGEOBJ_IMAGE,))
        ]
    finally:
        document.close()
    assert len(bounds) == len(sim_run.results["measurements"])
    for left, bottom, right, top in bounds:
        assert left == pytest.approx(margin, abs=1.0) and right == pytest.approx(page_width - margin, abs=1.0)
        assert 0.0 < bottom < top < 841.89
