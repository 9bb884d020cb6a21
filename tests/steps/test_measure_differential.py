"""``measure_differential`` and ``master_differential``: what validation refuses, and a verdict
that needs the two sides parted from each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.cli import main
from rig.engine.calibration import relied_on
from rig.outcome import Outcome
from rig.procedure.loader import load_procedure
from tests.engine import sim_runs

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
GOOD = "name: d, channel: dp_article, volume: article, duration: 5 min, limit: 0.5 sccm"


def procedure(tmp_path: Path, step: str, kind: str = "measure_differential") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"procedure: p\nversion: 1\nbench: {BENCH}\nsample_period: 1 s\nmain:\n  - wait: {{duration: 1 s}}\n"
        f"  - {kind}: {{{step}}}\n"
    )
    return path


def test_the_shipped_procedures_validate_and_rely_on_the_head(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("differential_decay", "master_differential"):
        path = ROOT / "procedures" / f"{name}.yaml"
        assert main(["validate", str(path)]) == 0
        assert relied_on(load_procedure(path))[0] == ["p_article", "dp_article"]
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kind", "step", "marker", "fragment"),
    [
        (
            "measure_differential",
            GOOD.replace("dp_article", "p_article"),
            "p_article",
            "'p_article' measures pressure: a differential test reads a differential_pressure channel",
        ),
        (
            "measure_differential",
            GOOD.replace("volume: article", "volume: chamber"),
            "chamber",
            "'dp_article' reads article against reference, not 'chamber'",
        ),
        ("measure_differential", GOOD + ", max_age: 8 h", "8 h", "name the `master:` too"),
        (
            "measure_differential",
            GOOD.replace("duration: 5 min, limit: 0.5 sccm", "duration: 30 s, limit: 1e-9 Pa*m**3/s"),
            "1e-9",
            "is below what 'dp_article' can resolve in 30 s",
        ),
        ("master_differential", GOOD, "{name: d", "master"),
        (
            "master_differential",
            GOOD.replace("0.5 sccm", "1e-9 Pa*m**3/s") + ", master: M-1",
            "1e-9",
            "can resolve",
        ),
    ],
)
def test_validation_refuses_at_the_field(
    kind: str, step: str, marker: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = procedure(tmp_path, step, kind)
    line = path.read_text().splitlines()[6]
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:7:{line.index(marker) + 1}: ") and fragment in lines[0], lines[0]


@pytest.mark.integration
def test_two_sides_joined_through_the_chamber_give_no_verdict(tmp_path: Path) -> None:
    path = tmp_path / "joined.yaml"
    path.write_text(
        f"procedure: joined\nversion: 1\nbench: {BENCH}\nsample_period: 1 s\nmain:\n"
        "  - set_valves: {valves: {article: open, reference: open}}\n"
        "  - wait: {duration: 20 s}\n"
        "  - measure_differential: {name: d, channel: dp_article, volume: article, duration: 1 min, "
        "limit: 0.5 sccm}\n"
    )
    entry = sim_runs.run(tmp_path, path, seed=1).outcome.measurements["d"]
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None
    assert entry.refusal.startswith("not isolated: article and reference share gas through open valves")
