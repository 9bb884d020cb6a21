"""``rig analyze`` end to end, as a user runs it (a subprocess of the installed command)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.analysis import fit_decay
from rig.analysis.budget import TypeB, type_b_terms
from rig.cli import main
from rig.units import to_si

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "procedures" / "examples" / "pressure_decay_1L.csv"
TORR_PA = to_si("1 Torr", "pressure", "test")
PSI_PA = to_si("1 psi", "pressure", "test")
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
        ("ok", ["--volume", "1 L", "--resolution", "0 Pa"], "must be positive"),
        ("ok", ["--volume", "1 L", "--resolution", "-1 Pa"], "must be positive"),
        ("ok", ["--volume", "1 L", "--resolution", "inf Pa"], "not a finite number"),
        ("ok", ["--volume", "1 L", "--resolution", "nan Pa"], "not a finite number"),
        ("ok", ["--volume", "1 L", "--resolution", "1e-400 Pa"], "must be positive"),
        ("ok", ["--volume", "1 L", "--resolution", "1 L"], "is not a pressure"),
        ("ok", ["--volume", "1 L", "--resolution", "1"], "has no units"),
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


# --- the gauge's resolution ----------------------------------------------------------------------


def analyze_in_process(*args: str) -> dict[str, Any]:
    """``rig analyze ... --json`` through :func:`rig.cli.main`, in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["analyze", *args, "--json"])
    assert code == 0
    result = json.loads(out.getvalue())
    assert isinstance(result, dict)
    return result


def write_text(path: Path, header: str, cells: list[str], period_s: float = 1.0) -> Path:
    path.write_text(header + "\n" + "".join(f"{i * period_s:g},{c}\n" for i, c in enumerate(cells)))
    return path


def test_a_flat_integer_trace_is_not_a_pass(tmp_path: Path) -> None:
    # The outside tester's file: three identical integers against a limit no test could reach.
    f = tmp_path / "flat.csv"
    f.write_text("time,pressure\n0,1\n1,1\n2,1\n")
    result = analyze_in_process(str(f), "--volume", "1 L", "--limit", "1e-30 sccm")
    assert result["verdict"] == "INCONCLUSIVE"
    assert result["resolution_pa"] == 1.0 and result["resolution_source"] == "printed digits"
    one_step = 1e-3 * 1.0 / (2.0 * math.sqrt(3.0))  # V·q/(D·√3), the rectangular step
    assert result["stderr_pa_m3_s"] == pytest.approx(one_step, rel=1e-12)
    assert result["ucl95_pa_m3_s"] > result["leak_rate_pa_m3_s"]
    assert result.keys() >= INTERFACE_FIELDS


def test_no_resolution_and_no_scatter_is_inconclusive_with_its_reason(tmp_path: Path) -> None:
    # Cells Python reads as 1000 but in no decimal form, all alike: nothing tells the step.
    f = write_text(tmp_path / "blind.csv", "time,pressure", ["1_000"] * 50)
    result = analyze_in_process(str(f), "--volume", "1 L", "--limit", "1 sccm")
    assert result["resolution_source"] == "none" and result["resolution_pa"] is None
    assert result["stderr_pa_m3_s"] == 0.0
    assert result["verdict"] == "INCONCLUSIVE"
    assert "no uncertainty" in result["refusal"] and result["additional_time_s"] is None
    table = rig("analyze", str(f), "--volume", "1 L", "--limit", "1 sccm")
    assert table.returncode == 0 and "INCONCLUSIVE" in table.stdout and "no uncertainty" in table.stdout
    # Given the step, the same trace is bounded, and passes a limit it can resolve.
    given = analyze_in_process(str(f), "--volume", "1 L", "--limit", "1 sccm", "--resolution", "1 Pa")
    assert given["resolution_source"] == "given" and given["verdict"] == "PASS"


def test_a_given_resolution_enters_as_the_type_b_term(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    t = np.arange(0.0, 300.0)
    p = 1.5e5 - 0.02 * t + rng.normal(0.0, 0.3, t.size)
    f = write_csv(tmp_path / "noisy.csv", "time,pressure", np.column_stack([t, p]))
    result = analyze_in_process(str(f), "--volume", "2 L", "--resolution", "0.05 mbar")
    assert result["resolution_pa"] == pytest.approx(5.0) and result["resolution_source"] == "given"
    fit = fit_decay(t, p, volume_m3=2e-3)
    terms, resolves = type_b_terms(
        fit.leak_rate_pa_m3_s,
        2e-3,
        fit.line.duration,
        float(np.mean(p)),
        293.15,
        TypeB(resolution_pa=5.0),
        False,
    )
    assert result["stderr_type_b_pa_m3_s"] == pytest.approx(terms["resolution"], rel=1e-12)
    assert result["stderr_pa_m3_s"] == pytest.approx(
        math.hypot(fit.stderr_pa_m3_s, terms["resolution"]), rel=1e-9
    )
    assert result["test_resolution_pa_m3_s"] == pytest.approx(resolves, rel=1e-12)
    half = fit.line.t_quantile(0.975) * result["stderr_pa_m3_s"]
    assert result["ci95_high_pa_m3_s"] == pytest.approx(fit.leak_rate_pa_m3_s + half, rel=1e-9)
    # The given step wins over what the digits show (repr prints some 1e-11 Pa here).
    inferred = analyze_in_process(str(f), "--volume", "2 L")
    assert inferred["resolution_source"] == "printed digits" and inferred["resolution_pa"] < 1e-6
    assert inferred["stderr_pa_m3_s"] < result["stderr_pa_m3_s"]


@pytest.mark.parametrize(
    ("header", "fmt", "scale", "resolution_pa", "source"),
    [
        ("time,pressure", "{:.1f}", 1.0, 0.1, "printed digits"),  # 101325.0: to 0.1 Pa
        ("time,pressure", "{:.4e}", 1.0, 10.0, "printed digits"),  # 1.0132e+05: 10 Pa at 1e5
        ("time,pressure[mbar]", "{:.2f}", 0.01, 1.0, "printed digits"),
        ("time,pressure[Torr]", "{:.3f}", 1.0 / TORR_PA, 1e-3 * TORR_PA, "printed digits"),
    ],
)
def test_resolution_from_printed_digits(
    tmp_path: Path, header: str, fmt: str, scale: float, resolution_pa: float, source: str
) -> None:
    rng = np.random.default_rng(3)
    p = 101325.0 - 0.5 * np.arange(200.0) + rng.normal(0.0, 20.0, 200)
    f = write_text(tmp_path / "d.csv", header, [fmt.format(v * scale) for v in p])
    result = analyze_in_process(str(f), "--volume", "1 L")
    assert result["resolution_pa"] == pytest.approx(resolution_pa, rel=1e-9)
    assert result["resolution_source"] == source


@pytest.mark.parametrize(
    ("header", "step", "per_pa", "decimals"),
    [("time,pressure", 0.5, 1.0, 1), ("time,pressure[psi]", 0.02, 1 / PSI_PA, 2)],
)
def test_resolution_from_value_steps(
    tmp_path: Path, header: str, step: float, per_pa: float, decimals: int
) -> None:
    # A gauge stepping 0.5 Pa (or 0.02 psi) written with one more digit than it resolves.
    rng = np.random.default_rng(8)
    p = 2e5 * per_pa - 1e-3 * np.arange(400.0) + rng.normal(0.0, 2.0 * step, 400)
    cells = [f"{round(v / step) * step:.{decimals}f}" for v in p]
    result = analyze_in_process(str(write_text(tmp_path / "q.csv", header, cells)), "--volume", "1 L")
    assert result["resolution_source"] == "value steps"
    assert result["resolution_pa"] == pytest.approx(step / per_pa, rel=1e-9)


def test_a_flat_trace_of_known_resolution_passes_only_what_it_resolves(tmp_path: Path) -> None:
    f = write_text(tmp_path / "flat.csv", "time,pressure", ["101325"] * 3601)
    resolves = 1e-3 * 1.0 / 3600.0  # one 1 Pa step over the hour in 1 L
    generous = analyze_in_process(str(f), "--volume", "1 L", "--limit", f"{20 * resolves} Pa*m**3/s")
    assert generous["verdict"] == "PASS" and generous["refusal"] is None
    assert 0.0 < generous["ucl95_pa_m3_s"] < resolves and generous["e2930"]["met"] is True
    tight = analyze_in_process(str(f), "--volume", "1 L", "--limit", f"{0.5 * resolves} Pa*m**3/s")
    assert tight["verdict"] == "INCONCLUSIVE" and tight["additional_time_s"] > 3600.0
    # The bound passes 5x the resolution, but E2930 asks for a tenth of the limit: refused as a run is.
    e2930 = analyze_in_process(str(f), "--volume", "1 L", "--limit", f"{5 * resolves} Pa*m**3/s")
    assert e2930["verdict"] == "INCONCLUSIVE" and "ASTM E2930" in e2930["refusal"]


@pytest.mark.parametrize(
    ("cells", "extra", "verdict", "source"),
    [
        (["7"] * 10, [], "INCONCLUSIVE", "printed digits"),  # one distinct value
        (["7", "8"] * 5, [], "INCONCLUSIVE", "printed digits"),  # two values
        (["nan"] * 20 + ["5.0", "5.0", "5.0"], [], "INCONCLUSIVE", "printed digits"),  # all NaN but three
        (["1e300"] * 5, [], "INCONCLUSIVE", "printed digits"),
        (["-3.25E+02"] * 5, [], "INCONCLUSIVE", "printed digits"),  # a negative gauge pressure, exponent form
        (["0"] * 5, [], "INCONCLUSIVE", "printed digits"),
        (["5e-400"] * 5, [], "INCONCLUSIVE", "none"),  # reads as 0, printed beyond any double: no step
        (["0e306"] * 5, [], "INCONCLUSIVE", "printed digits"),  # a step of 1e306 Pa
        (["100.0", "100.1", "100.0"], ["--resolution", "1 bar"], "INCONCLUSIVE", "given"),  # step > range
        # Two digits at 1e-300 Pa resolve 1e-301 Pa: even this limit is ten times what the test
        # resolves, so the pass stands, on the evidence of its digits.
        (["1.5e-300"] * 20, [], "PASS", "printed digits"),
    ],
)
def test_flat_and_hostile_traces_pass_only_on_evidence(
    tmp_path: Path, cells: list[str], extra: list[str], verdict: str, source: str
) -> None:
    f = write_text(tmp_path / "h.csv", "time,pressure", cells)
    result = analyze_in_process(str(f), "--volume", "1 L", "--limit", "1e-30 sccm", *extra)
    assert (result["verdict"], result["resolution_source"]) == (verdict, source)
    stderr = result["stderr_pa_m3_s"]
    if source == "none":
        assert stderr == 0.0 and "no uncertainty" in result["refusal"]
    else:
        assert stderr is not None and stderr > 0.0 and result["resolution_pa"] > 0.0
    if verdict == "PASS":
        assert result["ucl95_pa_m3_s"] <= result["limit_pa_m3_s"] and result["e2930"]["met"] is True


@settings(max_examples=60, deadline=None)
@given(
    mantissa=st.sampled_from(["1", "2", "2.5", "5", "3", "0.25"]),
    exponent=st.integers(-4, 3),
    level=st.floats(1e2, 1e6),
    negative=st.booleans(),
    slope_steps_s=st.floats(-5.0, 5.0),
    noise_steps=st.floats(1.0, 5.0),
    n=st.integers(30, 200),
    mbar=st.booleans(),
    exponent_form=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_quantised_trace_reports_its_step(
    mantissa: str,
    exponent: int,
    level: float,
    negative: bool,
    slope_steps_s: float,
    noise_steps: float,
    n: int,
    mbar: bool,
    exponent_form: bool,
    seed: int,
) -> None:
    # Any slope, noise of at least a step (so the levels visited share no common factor), written
    # exactly (Decimal) to the step's own digits, in Pa or mbar, fixed or exponent form.
    q = Decimal(mantissa).scaleb(exponent)
    rng = np.random.default_rng(seed)
    sign = -1.0 if negative else 1.0
    counts = np.rint(
        (sign * level - slope_steps_s * float(q) * np.arange(n)) / float(q) + rng.normal(0.0, noise_steps, n)
    )
    cells = [format(int(k) * q, "e" if exponent_form else "f") for k in counts]
    header = "time,pressure[mbar]" if mbar else "time,pressure"
    with tempfile.TemporaryDirectory() as tmp:
        result = analyze_in_process(str(write_text(Path(tmp) / "q.csv", header, cells)), "--volume", "1 L")
    assert result["resolution_pa"] == pytest.approx(float(q) * (100.0 if mbar else 1.0), rel=1e-9)
    assert result["ucl95_pa_m3_s"] >= result["leak_rate_pa_m3_s"]
    assert result["ci95_high_pa_m3_s"] >= result["leak_rate_pa_m3_s"] >= result["ci95_low_pa_m3_s"]
