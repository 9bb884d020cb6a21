"""The picture of a recorded run: the pieces it computes, the image it writes, ``rig runs show --plot``."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.figure
import matplotlib.image
import numpy as np
import pytest

from rig.bench import load_bench
from rig.cli import main
from rig.errors import InputError
from rig.record import Measurement, RunRecord
from rig.record.results import RunResults
from rig.record.run_record import read_events
from rig.record.run_samples import parse_samples
from rig.record.run_store import RunStore
from rig.report.run_plot import (
    StepBoundary,
    channel_kinds,
    decay_line,
    decay_lines,
    draw_run,
    label_levels,
    plot_run,
    step_boundaries_from_events,
    step_boundaries_from_samples,
    use_log_axis,
)
from rig.report.window_panels import WINDOW_AXES_PREFIX

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
CHANNELS = ["p_chamber", "p_article", "p_reference", "t_chamber", "t_article"]
T_START = 1000.0  # clock seconds of the first sample: the plot's time axis starts there
STEPS = [("fill", 0.0), ("stabilise", 60.0), ("measure", 120.0), ("vent", 300.0)]
WINDOW = (T_START + 120.0, T_START + 300.0)
LINE = {"t0_s": WINDOW[0], "intercept_pa": 199_990.0, "slope_pa_s": -0.05, "compensated_to_k": None}
ENTRY = {
    "value": 5.0e-4,
    "unit": "Pa*m**3/s",
    "stderr": 1e-5,
    "ucl95": 5.2e-4,
    "n": 180,
    "outcome": "PASS",
    "limit": 1e-3,
    "channel": "p_article",
    "window_s": list(WINDOW),
    "line": LINE,
}


def measurement(entry: dict[str, object]) -> Measurement:
    """``entry`` as a results file records it, read back."""
    return Measurement.from_json("decay", entry)


def step_at(t_rel: float) -> str:
    return [name for name, start in STEPS if t_rel >= start][-1]


def article_pa(t_rel: float) -> float:
    if t_rel < 60.0:
        return 1e5 + 1e5 * t_rel / 60.0
    if t_rel < 300.0:
        return 199_990.0 - 0.05 * max(t_rel - 120.0, 0.0)
    return 101_325.0


def write_run(run_dir: Path, *, bench: bool = True, results: bool = True, events: bool = True) -> Path:
    """A run directory as the store leaves it: 331 samples at 1 s, a few dropouts, one decay."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = ["time,step," + ",".join(CHANNELS)]
    for i in range(331):
        t_rel = float(i)
        cells = [1e-2 + 1e-3 * math.sin(i), article_pa(t_rel), 2e5, 293.15 + 0.01 * i / 60, 293.2]
        row = [repr(T_START + t_rel), step_at(t_rel), *(repr(float(v)) for v in cells)]
        if i % 37 == 5:
            row[2 + CHANNELS.index("t_article")] = ""  # a thermocouple dropout
        if i in (150, 151):
            row[2 + CHANNELS.index("p_article")] = ""  # a gauge dropout inside the fit window
        lines.append(",".join(row))
    (run_dir / "samples.csv").write_text("\n".join(lines) + "\n")
    if events:
        evs = [
            {
                "t": T_START + start,
                "kind": "step",
                "message": f"{name} at procedure.yaml:{9 + k}:5",
                "step": name,
            }
            for k, (name, start) in enumerate(STEPS)
        ]
        evs.append({"t": T_START + 300.0, "kind": "measurement", "message": "decay: PASS", "step": "measure"})
        evs.append({"t": T_START + 310.0, "kind": "fault", "message": "gauge timeout", "step": "vent"})
        (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evs))
    if results:
        body = {
            "verdict": "PASS",
            "reason": "every measurement within its limit",
            "safe_state_confirmed": True,
            "measurements": {"decay": ENTRY, "reference_check": {"value": 1e-5, "outcome": "MEASURED"}},
        }
        (run_dir / "results.json").write_text(json.dumps(body))
    (run_dir / "run.json").write_text(json.dumps({"run_id": run_dir.name, "procedure": "pressure_decay"}))
    if bench:
        shutil.copy(BENCH, run_dir / "bench.yaml")
    return run_dir


def assert_image(path: Path) -> None:
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 600 and image.shape[2] in (3, 4)


# --- the pieces ----------------------------------------------------------------------------------


def test_samples_become_arrays_with_dropouts_as_nan(tmp_path: Path) -> None:
    header = ["time", "step", "p", "t_x"]
    rows = [["0.0", "fill", "1.5", "293.0"], ["1.0", "fill", "", "293.1"], ["2.0", "hold", "1.25", ""]]
    samples = parse_samples(header, rows)
    assert samples.time_s.tolist() == [0.0, 1.0, 2.0]
    assert samples.step.tolist() == ["fill", "fill", "hold"]
    assert samples.channels["p"][0] == 1.5 and math.isnan(samples.channels["p"][1])
    assert math.isnan(samples.channels["t_x"][2])  # a gap, never a zero


def test_samples_refuse_a_foreign_header_and_text_in_a_number() -> None:
    with pytest.raises(InputError, match="time,step"):
        parse_samples(["t", "p"], [["0", "1"]])
    with pytest.raises(InputError, match="not a number"):
        parse_samples(["time", "step", "p"], [["0", "fill", "high"]])


def test_no_samples_is_empty_arrays() -> None:
    samples = parse_samples(["time", "step", "p"], [])
    assert samples.time_s.size == 0 and samples.channels["p"].size == 0


def test_step_boundaries_come_from_the_step_events() -> None:
    events = [
        {"t": 0.0, "kind": "step", "message": "set_valves at p.yaml:3:5", "step": "close_all"},
        {"t": 0.0, "kind": "step", "message": "fill at p.yaml:5:5", "step": "fill"},  # same instant
        {"t": 4.0, "kind": "warning", "message": "slow", "step": "fill"},
        {"t": 60.0, "kind": "step", "message": "measure_decay at p.yaml:9:5"},  # no step field
    ]
    assert step_boundaries_from_events(events) == [
        StepBoundary(0.0, "close_all, fill"),
        StepBoundary(60.0, "measure_decay"),
    ]


def test_step_boundaries_fall_back_on_the_step_column() -> None:
    t = np.arange(6, dtype=np.float64) * 2.0
    step = np.array(["fill", "fill", "hold", "hold", "hold", "fill"])
    assert step_boundaries_from_samples(t, step) == [
        StepBoundary(0.0, "fill"),
        StepBoundary(4.0, "hold"),
        StepBoundary(10.0, "fill"),
    ]
    assert step_boundaries_from_samples(np.empty(0), np.empty(0, dtype=np.str_)) == []


def test_close_step_labels_are_staggered() -> None:
    assert label_levels([0.0, 0.1, 0.2, 0.3, 5.0, 5.05, 9.0], min_gap=0.5) == [0, 1, 2, 0, 0, 1, 0]
    assert label_levels([], min_gap=1.0) == []


def test_a_fitted_line_is_drawn_over_its_window() -> None:
    line = decay_line("decay", measurement(ENTRY))
    assert line is not None
    assert line.channel == "p_article"
    assert (line.t_s[0], line.t_s[-1]) == WINDOW
    expected = LINE["intercept_pa"] + LINE["slope_pa_s"] * (line.t_s - WINDOW[0])  # type: ignore[operator]
    np.testing.assert_allclose(line.p_pa, expected, rtol=0, atol=1e-9)
    assert line.p_pa[-1] == pytest.approx(199_990.0 - 0.05 * 180.0)
    assert line.label == "decay: (5.00 ± 0.20)×10⁻⁴ (k=2) Pa·m³/s · PASS"  # U = 2·stderr


def test_a_compensated_line_is_of_the_compensated_pressure() -> None:
    entry = {**ENTRY, "line": {**LINE, "compensated_to_k": 293.15}}
    line = decay_line("decay", measurement(entry), unit="sccm")
    assert line is not None
    assert line.fit.compensated_to_k == 293.15
    # In the procedure's unit: 5e-4 Pa·m³/s at 293.15 K is 0.276 sccm at 0 °C.
    assert line.label == "decay: 0.276 ± 0.011 (k=2) sccm · PASS"


@pytest.mark.parametrize(
    "entry",
    [
        {"value": 1e-5, "outcome": "MEASURED"},  # a reference-leak check: no line
        {**ENTRY, "window_s": None},
        {**ENTRY, "window_s": [5.0, 5.0]},
        {**ENTRY, "line": {"t0_s": 0.0, "intercept_pa": "x", "slope_pa_s": 0.0}},
        {**ENTRY, "line": {"t0_s": 0.0}},
    ],
)
def test_entries_without_a_usable_line_are_left_out(entry: dict[str, object]) -> None:
    assert decay_line("m", measurement(entry)) is None


def test_decay_lines_of_a_results_file() -> None:
    other = {**ENTRY, "value": 2.5e-3, "outcome": "FAIL"}
    results = RunResults.from_json({"measurements": {"a": ENTRY, "b": other, "ref": {"value": 1.0}}})
    assert [line.label for line in decay_lines(results)] == [
        "a: (5.00 ± 0.20)×10⁻⁴ (k=2) Pa·m³/s · PASS",
        "b: (2.500 ± 0.020)×10⁻³ (k=2) Pa·m³/s · FAIL",
    ]
    assert decay_lines(None) == [] and decay_lines(RunResults.from_json({"verdict": "ABORTED"})) == []


def test_log_axis_only_past_two_decades() -> None:
    pump_down = np.geomspace(1e5, 1.0, 50)
    decay = np.linspace(2e5, 1.9e5, 50)
    assert use_log_axis([pump_down])
    assert not use_log_axis([decay])
    assert not use_log_axis([np.array([1.0, 100.0])])  # exactly two decades stays linear
    assert use_log_axis([decay, np.array([1e-2, np.nan])])  # spans are over every pressure channel
    assert not use_log_axis([np.array([-0.5, 0.0, 1.0, 50.0, np.nan])])  # noise around zero is no span
    assert not use_log_axis([np.full(3, np.nan)]) and not use_log_axis([])


def test_channel_kinds_from_the_bench_or_the_names() -> None:
    kinds = channel_kinds(load_bench(BENCH), [*CHANNELS, "t_extra", "v_supply"])
    assert kinds["p_chamber"] == "pressure" and kinds["t_article"] == "temperature"
    assert kinds["t_extra"] == "temperature" and kinds["v_supply"] == "pressure"  # not in the bench
    assert channel_kinds(None, ["t_a", "p_a"]) == {"t_a": "temperature", "p_a": "pressure"}


def test_events_survive_a_line_cut_short(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"t": 1.0, "kind": "step", "message": "x"}\n{"t": 2.0, "ki')
    assert [e["t"] for e in read_events(tmp_path)] == [1.0]
    assert read_events(tmp_path / "nowhere") == []


# --- the picture ---------------------------------------------------------------------------------


def test_a_run_is_drawn(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "20250101-000000-abcdef")
    out = plot_run(RunRecord.load(run_dir), tmp_path / "run.png")
    assert out == tmp_path / "run.png"
    assert_image(out)


def test_a_crashed_run_without_bench_events_or_results_is_drawn(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "crashed", bench=False, results=False, events=False)
    assert_image(plot_run(RunRecord.load(run_dir, finished=False), tmp_path / "crashed.png"))


def test_a_run_without_temperatures_or_samples_is_drawn(tmp_path: Path) -> None:
    run_dir = tmp_path / "bare"
    run_dir.mkdir()
    (run_dir / "samples.csv").write_text("time,step,p_chamber\n")
    assert_image(plot_run(RunRecord.load(run_dir, finished=False), tmp_path / "bare.png"))


def test_plot_problems_are_input_errors(tmp_path: Path) -> None:
    run = RunRecord.load(write_run(tmp_path / "run"))
    with pytest.raises(InputError, match="cannot write"):
        plot_run(run, tmp_path / "no" / "such" / "dir.png")
    with pytest.raises(InputError, match="unknown image type"):
        plot_run(run, tmp_path / "run.xyz")
    (run.run_dir / "samples.csv").unlink()
    with pytest.raises(InputError, match=r"cannot read the samples of .*samples\.csv is missing"):
        plot_run(RunRecord.load(run.run_dir), tmp_path / "missing.png")
    with pytest.raises(InputError, match="missing"):
        RunRecord.load(tmp_path / "missing", finished=False)


def test_a_refused_write_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # As root (CI) a read-only directory would not refuse, so the refusal is staged.
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", refuse)
    with pytest.raises(InputError, match=r"cannot write .*: Permission denied"):
        plot_run(RunRecord.load(write_run(tmp_path / "run")), tmp_path / "run.png")


# --- rig runs show --plot ------------------------------------------------------------------------


def record_run(data_dir: Path) -> str:
    """A short run recorded through the store, as ``rig run`` records one."""
    store = RunStore(data_dir)
    writer = store.create(
        "pressure_decay", "vacuum_chamber_mockup", CHANNELS, {"sim": True}, {"bench.yaml": BENCH.read_text()}
    )
    for i in range(200):
        t_rel = float(i)
        values: dict[str, float | None] = {
            "p_chamber": 1e-2,
            "p_article": article_pa(t_rel),
            "p_reference": None if i % 50 == 7 else 2e5,
            "t_chamber": 293.15,
            "t_article": 293.2,
        }
        if i in (0, 60, 120):
            writer.event(
                T_START + t_rel, "step", f"{step_at(t_rel)} at procedure.yaml:1:1", step=step_at(t_rel)
            )
        writer.sample(T_START + t_rel, step_at(t_rel), values)
    results = {"verdict": "PASS", "reason": "ok", "safe_state_confirmed": True, "measurements": {"d": ENTRY}}
    writer.finish("passed", "PASS", "ok", results)
    return writer.run_id


def test_runs_show_plot_writes_the_image(tmp_path: Path) -> None:
    run_id = record_run(tmp_path / "data")
    out = tmp_path / "out.png"
    done = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "show", run_id, "--data-dir", str(tmp_path / "data"),
         "--plot", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"plot written to {out}"
    assert f"run_id: {run_id}" in done.stdout  # the usual detail is still printed
    assert_image(out)


def test_runs_show_plot_with_json_keeps_stdout_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = record_run(tmp_path / "data")
    out = tmp_path / "out.png"
    assert (
        main(["runs", "show", run_id, "--data-dir", str(tmp_path / "data"), "--json", "--plot", str(out)])
        == 0
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["run_id"] == run_id
    assert captured.err.strip() == f"plot written to {out}"
    assert out.exists()


def test_runs_show_an_unknown_run_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_run(tmp_path / "data")
    out = tmp_path / "out.png"
    assert main(["runs", "show", "nosuchrun", "--data-dir", str(tmp_path / "data"), "--plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no run 'nosuchrun'" in err
    assert not out.exists()


def test_runs_show_an_unwritable_plot_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = record_run(tmp_path / "data")
    out = tmp_path / "missing_dir" / "out.png"
    assert main(["runs", "show", run_id, "--data-dir", str(tmp_path / "data"), "--plot", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed before the error
    assert len(captured.err.strip().splitlines()) == 1 and "cannot write" in captured.err


def test_a_fit_window_panel_marks_its_dropouts(tmp_path: Path) -> None:
    """The two gauge dropouts inside the fit window are marked and counted in the window's panel."""
    fig = draw_run(RunRecord.load(write_run(tmp_path / "run")))
    (panel,) = [ax for ax in fig.axes if ax.get_label() == WINDOW_AXES_PREFIX + "decay"]
    (marks,) = [line for line in panel.get_lines() if str(line.get_label()).startswith("no reading")]
    assert marks.get_label() == "no reading (2: dropout or over range)"
    np.testing.assert_allclose(np.asarray(marks.get_xdata()) * 60.0, [150.0, 151.0])
    # An uncompensated fit is drawn on p itself.
    (fit,) = [line for line in panel.get_lines() if line.get_label() == "fit of p"]
    assert panel.get_ylabel() == "p − 199.99 kPa [Pa]"
    np.testing.assert_allclose(np.asarray(fit.get_ydata()) + 199_990.0, [199_990.0, 199_990.0 - 0.05 * 180.0])
