"""Results where the user looks: ``rig run``'s last lines, ``rig validate``'s warnings, ``rig analyze``.

``rig run`` ends with every measurement's value, expanded uncertainty (k = 2), limit and outcome
in the unit the procedure wrote the limit in, and its ``--json`` line carries the same
(``uncertainty_k2``, ``limit``, ``unit``) beside Pa·m³/s, equal to what ``results.json``
records. ``rig validate`` warns of a measurement too short to decide its limit, quoting the
duration ``rig plan`` proposes, and ``--strict`` refuses it (exit 2). ``rig analyze`` shows a
``--limit`` as written.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rig.cli import main
from rig.record import RunRecord
from rig.units import T_TWENTY_C_K, convert_leak_rate
from tests.engine.sim_runs import MOCKUP, PROCEDURES

EXAMPLE = PROCEDURES / "examples" / "pressure_decay_1L.csv"


@pytest.mark.integration
def test_the_json_line_gives_value_uncertainty_and_limit_in_the_procedures_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(PROCEDURES / "pressure_decay.yaml"), "--sim", "--data-dir", str(tmp_path), "--json"]
    assert main(argv) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    entry = line["measurements"]["decay"]
    assert {"value", "unit", "outcome", "uncertainty_k2", "limit"} <= entry.keys()
    assert entry["unit"] == "sccm" and entry["outcome"] == "PASS"
    assert entry["limit"] == pytest.approx(0.5, rel=1e-12)  # as written: limit: 0.5 sccm
    recorded = RunRecord.load(line["run_dir"]).measurements["decay"]
    assert recorded.stderr_pa_m3_s is not None and recorded.value_pa_m3_s is not None
    assert entry["value_pa_m3_s"] == recorded.value_pa_m3_s
    assert entry["uncertainty_k2_pa_m3_s"] == pytest.approx(2.0 * recorded.stderr_pa_m3_s)
    assert entry["limit_pa_m3_s"] == recorded.limit_pa_m3_s

    def sccm(q: float) -> float:
        return convert_leak_rate(q, "sccm", pv_temperature_k=T_TWENTY_C_K)

    assert entry["value"] == pytest.approx(sccm(recorded.value_pa_m3_s))
    assert entry["uncertainty_k2"] == pytest.approx(sccm(2.0 * recorded.stderr_pa_m3_s))


@pytest.mark.integration
def test_the_last_human_lines_give_every_measurement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    procedure = PROCEDURES / "seal_repair_certification.yaml"
    assert main(["run", str(procedure), "--sim", "--data-dir", str(tmp_path)]) == 0
    *measured, verdict = capsys.readouterr().out.strip().splitlines()[-3:]
    assert verdict.startswith("PASS: every measurement within its limit")
    rate = r"[-+0-9.e]+ ± [-+0-9.e]+"
    before = rf"before_repair: {rate} sccm \(k = 2\), no limit: MEASURED \({rate} Pa·m³/s\)"
    after = rf"after_repair: {rate} sccm \(k = 2\), limit 0\.1 sccm: PASS \({rate} Pa·m³/s\)"
    assert re.fullmatch(before, measured[0]), measured[0]
    assert re.fullmatch(after, measured[1]), measured[1]


def _short_decay(tmp_path: Path) -> Path:
    """The shipped pressure decay with a 30 s test: E2930 fails for its gauge at that length."""
    text = (PROCEDURES / "pressure_decay.yaml").read_text()
    short = tmp_path / "short.yaml"
    short.write_text(text.replace("duration: 10 min, limit: 0.5 sccm", "duration: 30 s, limit: 0.5 sccm"))
    return short


def test_validate_warns_of_a_measurement_too_short_to_decide_and_strict_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = _short_decay(tmp_path)
    assert main(["plan", str(short), "--bench", str(MOCKUP), "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["procedure_duration_decisive"] is False

    assert main(["validate", str(short), "--bench", str(MOCKUP)]) == 0
    out, err = capsys.readouterr()
    (warning,) = err.strip().splitlines()
    assert re.match(rf"{re.escape(str(short))}:\d+:\d+: warning: measurement 'decay' cannot reach", warning)
    assert "ASTM E2930" in warning and f"`rig plan` proposes {planned['duration']}" in warning
    assert "valid, 1 warning(s) above" in out

    assert main(["validate", str(short), "--bench", str(MOCKUP), "--strict"]) == 2
    out, err = capsys.readouterr()
    assert "refused (--strict)" in err and out == ""


def test_validate_strict_accepts_every_shipped_procedure(capsys: pytest.CaptureFixture[str]) -> None:
    for procedure in sorted(PROCEDURES.glob("*.yaml")):
        assert main(["validate", str(procedure), "--strict"]) == 0, capsys.readouterr().err
        assert "warning" not in capsys.readouterr().err


def test_analyze_shows_the_limit_as_written() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rig", "analyze", str(EXAMPLE), "--volume", "1 L", "--limit", "0.5 sccm"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"limit\s+0\.5 sccm = 0\.0009062 Pa·m³/s", done.stdout), done.stdout
