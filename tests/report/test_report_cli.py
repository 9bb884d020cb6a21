"""``rig report`` end to end: a simulated run, its certificate, its seal; an altered run is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = ROOT / "procedures" / "pressure_decay.yaml"
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
ARTICLE_DUE = "date: 2026-05-04, due: 2027-05-04"

pytestmark = pytest.mark.integration


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def overridden_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose article gauge was out of calibration, run anyway with the override."""
    tmp = tmp_path_factory.mktemp("overridden")
    bench = tmp / "bench.yaml"
    text = MOCKUP.read_text()
    assert ARTICLE_DUE in text
    bench.write_text(text.replace(ARTICLE_DUE, "date: 2025-09-04, due: 2026-09-04"))
    done = rig("run", str(PROCEDURE), "--bench", str(bench), "--sim", "--data-dir", str(tmp / "data"),
               "--json", "--allow-expired-calibration", "--operator", "Q. Engineer")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Path(json.loads(done.stdout.strip().splitlines()[-1])["run_dir"])


def test_report_writes_both_files_and_keeps_the_run_sealed(overridden_run: Path) -> None:
    assert rig("verify", str(overridden_run)).stdout.startswith("OK")
    done = rig("report", str(overridden_run))
    assert done.returncode == 0, done.stderr
    assert (overridden_run / "certificate.html").is_file() and (overridden_run / "certificate.pdf").is_file()
    key = json.loads((overridden_run / "manifest.json").read_text())["public_key"]
    verified = rig("verify", str(overridden_run), "--public-key", key)
    assert verified.returncode == 0 and verified.stdout.startswith("OK")
    html = (overridden_run / "certificate.html").read_text()
    # The override is stated in plain words, with the gauge and its certificate.
    assert "overrode the check" in html and "CMR-361-CAL-2026-117" in html and "expired" in html
    assert "Q. Engineer" in html and key in html
    # Certifying again is allowed: the certificate files are the only change.
    assert rig("report", str(overridden_run)).returncode == 0


def test_an_altered_run_is_not_certified(overridden_run: Path, tmp_path: Path) -> None:
    samples = overridden_run / "samples.csv"
    original = samples.read_bytes()
    try:
        samples.write_bytes(original.replace(b"p_article", b"p_articlf", 1))
        done = rig("report", str(overridden_run))
        assert done.returncode == 2
        assert "altered: samples.csv" in done.stderr
        verified = rig("verify", str(overridden_run))
        assert verified.returncode == 1 and "altered: samples.csv" in verified.stdout
    finally:
        samples.write_bytes(original)
    assert rig("verify", str(overridden_run)).returncode == 0


def test_report_of_something_that_is_not_a_run(tmp_path: Path) -> None:
    done = rig("report", str(tmp_path))
    assert done.returncode == 2 and "not a run directory" in done.stderr
