"""Calibration tracking: a run on instruments out of calibration is refused, or overridden in the open."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rig.bench import load_bench
from rig.engine.calibration import calibration_day, calibration_report, relied_on
from rig.located_yaml import LocatedError
from rig.procedure.loader import load_procedure

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
MOCKUP = PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml"
ARTICLE_CAL = (
    "p_article: {certificate: CMR-361-CAL-2026-117, date: 2026-05-04, due: 2027-05-04, uncertainty: 0.15 %}"
)


def bench_with(tmp_path: Path, old: str, new: str) -> Path:
    text = MOCKUP.read_text()
    assert old in text
    path = tmp_path / "bench.yaml"
    path.write_text(text.replace(old, new))
    return path


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_what_a_procedure_relies_on() -> None:
    channels, leaks = relied_on(load_procedure(PROCEDURES / "pressure_decay.yaml"))
    assert channels == ["p_article", "t_article"] and leaks == []
    channels, leaks = relied_on(load_procedure(PROCEDURES / "reference_leak_check.yaml"))
    assert channels == ["p_chamber"] and leaks == ["cal_leak"]
    channels, _ = relied_on(load_procedure(PROCEDURES / "compartment_isolation.yaml"))
    assert len(channels) == 8  # every gauge and thermometer of the station watches a segment


def test_the_shipped_benches_are_in_calibration_on_their_simulated_day() -> None:
    for name in (
        "pressure_decay",
        "reference_leak_check",
        "compartment_isolation",
        "seal_repair_certification",
    ):
        procedure = load_procedure(PROCEDURES / f"{name}.yaml")
        day = calibration_day(procedure.bench, simulated=True)
        assert day == dt.date(2026, 11, 2)
        records, problems = calibration_report(procedure, day)
        assert problems == [] and all(r["status"] == "current" for r in records.values())


def test_an_expired_gauge_refuses_the_run_before_anything_is_contacted(tmp_path: Path) -> None:
    bench = bench_with(tmp_path, ARTICLE_CAL, ARTICLE_CAL.replace("due: 2027-05-04", "due: 2026-10-04"))
    done = rig("run", str(PROCEDURES / "pressure_decay.yaml"), "--bench", str(bench), "--sim",
               "--data-dir", str(tmp_path / "data"), "--json")  # fmt: skip
    assert done.returncode == 2
    assert "calibration: p_article: calibration CMR-361-CAL-2026-117 expired on 2026-10-04" in done.stderr
    assert "--allow-expired-calibration" in done.stderr
    assert not (tmp_path / "data" / "runs").exists()


def test_the_override_runs_and_the_record_says_so(tmp_path: Path) -> None:
    bench = bench_with(tmp_path, ARTICLE_CAL, ARTICLE_CAL.replace("due: 2027-05-04", "due: 2026-10-04"))
    done = rig("run", str(PROCEDURES / "pressure_decay.yaml"), "--bench", str(bench), "--sim",
               "--data-dir", str(tmp_path / "data"), "--json", "--allow-expired-calibration")  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_dir = Path(json.loads(done.stdout.strip().splitlines()[-1])["run_dir"])
    record = json.loads((run_dir / "run.json").read_text())
    assert record["calibrations"]["p_article"]["status"] == "expired"
    assert record["calibrations"]["t_article"]["status"] == "current"
    (problem,) = record["calibration_override"]
    assert problem.startswith("p_article: calibration CMR-361-CAL-2026-117 expired")
    assert record["calibration_checked_on"] == "2026-11-02"


def test_a_missing_calibration_is_a_problem_too(tmp_path: Path) -> None:
    entry = (
        "t_article: {certificate: TC-K-CAL-2026-209, date: 2026-06-15, due: 2027-06-15, uncertainty: 0.2 K}"
    )
    line = f"  {entry}\n"
    bench = bench_with(tmp_path, line, "")
    procedure = load_procedure(PROCEDURES / "pressure_decay.yaml", bench)
    records, problems = calibration_report(procedure, dt.date(2026, 11, 2))
    assert records["t_article"] == {"status": "missing"}
    assert problems == ["t_article: no calibration on record in bench 'vacuum_chamber_mockup'"]


def test_an_expired_leak_standard_is_a_problem(tmp_path: Path) -> None:
    bench = bench_with(tmp_path, "date: 2026-02-10, due: 2027-02-10", "date: 2025-02-10, due: 2026-02-10")
    procedure = load_procedure(PROCEDURES / "reference_leak_check.yaml", bench)
    _, problems = calibration_report(procedure, dt.date(2026, 11, 2))
    assert problems == [
        "cal_leak: calibration RL-AIR-2026-0778 expired on 2026-02-10 (265 days before 2026-11-02)"
    ]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (ARTICLE_CAL.replace("due: 2027-05-04", "due: 2025-05-04"), "is before the calibration date"),
        (ARTICLE_CAL.replace("date: 2026-05-04", "date: May 4th"), "expected a date"),
        (ARTICLE_CAL.replace("uncertainty: 0.15 %", "uncertainty: 150 %"), "between 0 and 100 %"),
        (ARTICLE_CAL.replace("p_article:", "p_nowhere:"), "not a channel of this bench"),
        (ARTICLE_CAL.replace(", uncertainty: 0.15 %", ""), "missing key 'uncertainty'"),
    ],
)
def test_calibration_entries_are_validated_where_they_stand(tmp_path: Path, new: str, message: str) -> None:
    with pytest.raises(LocatedError) as info:
        load_bench(bench_with(tmp_path, ARTICLE_CAL, new))
    assert message in str(info.value)
    assert str(info.value).startswith(f"{tmp_path / 'bench.yaml'}:")
