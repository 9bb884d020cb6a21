"""``rig report`` end to end: a simulated run, its certificate, its seal; an altered run is refused.

So is a laundered one: altered, then sealed again with somebody else's key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rig.cli import main
from rig.record.integrity import load_or_create_key, public_key_hex, seal_run
from rig.record.trust import fingerprint

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


def _snapshot(run_dir: Path) -> dict[str, bytes]:
    return {
        p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()
    }


def test_a_laundered_record_is_neither_verified_nor_certified(
    overridden_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Key A, the rig's own (the session's LEAKRIG_KEY_DIR), sealed the run; a copy is laundered.
    run_dir = tmp_path / "run"
    shutil.copytree(overridden_run, run_dir)
    key_a = public_key_hex(load_or_create_key())
    assert json.loads((run_dir / "manifest.json").read_text())["public_key"] == key_a
    assert main(["verify", str(run_dir)]) == 0
    assert capsys.readouterr().out.startswith("OK\n")

    results = json.loads((run_dir / "results.json").read_text())
    for measurement in results["measurements"].values():
        measurement["value"] = 1e-7
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    key_b = seal_run(run_dir, tmp_path / "key_b")  # a key of the tester's own
    laundered = _snapshot(run_dir)

    done = rig("verify", str(run_dir))
    assert done.returncode == 1 and not done.stdout.startswith("OK")
    assert done.stdout.startswith(f"signature: signed by an untrusted key {fingerprint(key_b)} "), done.stdout
    assert "not in the trust store" in done.stdout

    assert main(["report", str(run_dir)]) == 2
    out, err = capsys.readouterr()
    assert (
        out == "" and len(err.splitlines()) == 1 and f"signed by an untrusted key {fingerprint(key_b)}" in err
    )
    assert _snapshot(run_dir) == laundered  # no certificate, no new seal: every byte as it was

    assert main(["verify", str(run_dir), "--public-key", key_a]) == 1
    assert capsys.readouterr().out == (
        f"signature: manifest.json: signed with public key {key_b}, not the trusted {key_a}\n"
    )

    # An administrator who trusts B: the record verifies, naming the file that trusts B; it is
    # still not certified here, since re-sealing it with A would vouch for what A never saw.
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "bench_b.pub").write_text(key_b + "\n")
    monkeypatch.setenv("LEAKRIG_TRUSTED_KEYS", str(trusted))
    assert main(["verify", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert out == f"OK\npublic key: {key_b} ({fingerprint(key_b)}, trusted: {trusted / 'bench_b.pub'})\n"
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"sealed by {fingerprint(key_b)} ({trusted / 'bench_b.pub'}), not by this rig's own key" in err
    assert _snapshot(run_dir) == laundered
