"""``rig analyze`` end to end, as a user runs it (a subprocess of the installed command)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "procedures" / "examples" / "pressure_decay_1L.csv"
INTERFACE_FIELDS = {
    "leak_rate_pa_m3_s",
    "stderr_pa_m3_s",
    "ci95_low_pa_m3_s",
    "ci95_high_pa_m3_s",
    "ucl95_pa_m3_s",
    "n",
    "dof",
    "method",
}


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=120, check=False
    )


def analyze_json(*args: str) -> dict[str, object]:
    done = rig("analyze", *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def write_csv(path: Path, header: str, rows: np.ndarray) -> Path:
    body = "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in rows)
    path.write_text(header + "\n" + body + "\n")
    return path


def test_example_file_recovers_its_true_leak() -> None:
    result = analyze_json(str(EXAMPLE), "--volume", "1 L", "--limit", "0.5 sccm")
    assert result.keys() >= INTERFACE_FIELDS
    assert result["verdict"] == "PASS"
    assert result["method"] == "ols-pressure-temperature-compensated"
    assert result["n_skipped"] == 3
    low, high = result["ci95_low_pa_m3_s"], result["ci95_high_pa_m3_s"]
    true_q = 0.2 * 1.68875e-3 * 293.15 / 273.15  # 0.2 sccm (0 °C) as pV at 293.15 K
    assert isinstance(low, float) and isinstance(high, float)
    assert low <= true_q <= high
    assert result["leak_rate_sccm"] == pytest.approx(0.2, rel=0.01)


def test_unit_suffixes_are_honoured(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    t = np.arange(0.0, 600.0, 2.0)
    temp_k = 293.15 + 0.002 * t
    p = (2e5 - 0.2 * t) * temp_k / 293.15 + rng.normal(0.0, 0.3, t.size)
    si = write_csv(tmp_path / "si.csv", "time,pressure,temperature", np.column_stack([t, p, temp_k]))
    other = write_csv(
        tmp_path / "units.csv",
        "time[min],pressure[mbar],temperature[degC]",
        np.column_stack([t / 60.0, p / 100.0, temp_k - 273.15]),
    )
    a = analyze_json(str(si), "--volume", "2 L")
    b = analyze_json(str(other), "--volume", "2000 cm**3")
    assert a["leak_rate_pa_m3_s"] == pytest.approx(b["leak_rate_pa_m3_s"], rel=1e-6)
    assert a["leak_rate_pa_m3_s"] == pytest.approx(2e-3 * 0.2, rel=0.02)
    assert "verdict" not in a


def test_spreadsheet_export_with_bom_comments_and_extra_columns(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{1e5 - 0.5 * i},x{i}" for i in range(10))
    f = tmp_path / "excel.csv"
    f.write_bytes(("\ufeff# exported\nTime,Pressure[Pa],Note\n" + rows + "\n").encode("utf-8"))
    result = analyze_json(str(f), "--volume", "1 m**3")
    assert result["slope_pa_s"] == pytest.approx(-0.5, rel=1e-12)
    assert result["n"] == 10


def test_t_ref_changes_the_compensated_slope(tmp_path: Path) -> None:
    t = np.arange(100.0)
    temp_k = np.full(100, 300.0)
    f = write_csv(tmp_path / "d.csv", "time,pressure,temperature", np.column_stack([t, 1e5 - t, temp_k]))
    default = analyze_json(str(f), "--volume", "1 m**3")
    assert default["slope_pa_s"] == pytest.approx(-293.15 / 300.0, rel=1e-9)
    cooler = analyze_json(str(f), "--volume", "1 m**3", "--t-ref", "0 degC")
    assert cooler["slope_pa_s"] == pytest.approx(-273.15 / 300.0, rel=1e-9)


def test_inconclusive_says_how_much_longer(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0.0, 30.0)
    p = 1e5 - 0.01 * t + rng.normal(0.0, 0.5, t.size)
    f = write_csv(tmp_path / "short.csv", "time,pressure", np.column_stack([t, p]))
    result = analyze_json(str(f), "--volume", "1 L", "--limit", "2e-5 Pa*m**3/s")
    assert result["verdict"] == "INCONCLUSIVE"
    assert isinstance(result["additional_time_s"], float) and result["additional_time_s"] > 0
    table = rig("analyze", str(f), "--volume", "1 L", "--limit", "2e-5 Pa*m**3/s")
    assert table.returncode == 0 and "INCONCLUSIVE" in table.stdout and "longer" in table.stdout


def test_table_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "decay.png"
    done = rig("analyze", str(EXAMPLE), "--volume", "1 L", "--limit", "0.5 sccm", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    assert "PASS" in done.stdout and "sccm" in done.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("rig")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("rig ")


def _bad(tmp_path: Path, name: str) -> list[str]:
    ok = "time,pressure\n0,100000\n1,99999\n2,99998\n3,99997\n"
    files = {
        "few": "time,pressure\n0,100000\n1,\n2,99998\n3,nan\n",
        "backwards": "time,pressure\n0,100000\n2,99999\n1,99998\n3,99997\n",
        "no_pressure": "time,press\n0,100000\n1,99999\n2,99998\n",
        "bad_unit": "time,pressure[zorks]\n0,1\n1,2\n2,3\n",
        "wrong_kind": "time,pressure[K]\n0,1\n1,2\n2,3\n",
        "text_cell": "time,pressure\n0,100000\n1,lots\n2,99998\n",
        "empty": "",
        "ok": ok,
    }
    path = tmp_path / f"{name}.csv"
    path.write_text(files[name])
    return [str(path)]


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("missing", ["--volume", "1 L"], "no such file"),
        ("no_pressure", ["--volume", "1 L"], "no column 'pressure'"),
        ("ok", ["--volume", "1 L", "--pressure-column", "p"], "no column 'p'"),
        ("few", ["--volume", "1 L"], "at least 3 usable samples"),
        ("backwards", ["--volume", "1 L"], "time does not increase"),
        ("ok", ["--volume", "1"], "has no units"),
        ("ok", ["--volume", "-1 L"], "must be positive"),
        ("ok", ["--volume", "0 L"], "must be positive"),
        ("ok", ["--volume", "1 bar"], "is not a volume"),
        ("bad_unit", ["--volume", "1 L"], "unknown unit 'zorks'"),
        ("wrong_kind", ["--volume", "1 L"], "not a pressure unit"),
        ("text_cell", ["--volume", "1 L"], "'lots' is not a number"),
        ("empty", ["--volume", "1 L"], "empty file"),
        ("ok", ["--volume", "1 L", "--limit", "2 bar"], "not a leak-rate unit"),
        ("ok", [], "--volume"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str, extra: list[str], message: str) -> None:
    target = [str(tmp_path / "absent.csv")] if case == "missing" else _bad(tmp_path, case)
    done = rig("analyze", *target, *extra, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
