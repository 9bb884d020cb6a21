"""``rig evaluate`` over a real dask.distributed scheduler and its workers, and on a local cluster."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from rig.cli import main
from rig.evaluation.tasks import ProcedureText, RunTask, run_task
from rig.procedure.loader import load_procedure

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
VERDICTS = {"PASS", "FAIL", "INCONCLUSIVE", "ABORTED"}


def rig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def check_factor(entry: dict[str, Any], runs: int) -> None:
    counts = entry["counts"]
    assert set(counts) == VERDICTS and sum(counts.values()) == runs
    assert entry["p_detect"] == counts["FAIL"] / runs
    low, high = entry["p_detect_ci95"]
    assert 0.0 <= low <= entry["p_detect"] <= high <= 1.0
    if entry["factor"] < 1:
        assert entry["p_false_alarm"] == entry["p_detect"] and entry["p_false_alarm_ci95"] == [low, high]
    else:
        assert entry["p_false_alarm"] is None and entry["p_false_alarm_ci95"] is None


@pytest.fixture(scope="module")
def evaluated(
    dask_scheduler: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], str, Path]:
    """``rig evaluate pressure_decay.yaml --factors 0.5,1,2 --runs 4`` on the scheduler's two workers.

    Module-scoped, so capsys (function-scoped) cannot capture it: stdout and stderr are redirected.
    """
    plot = tmp_path_factory.mktemp("plot") / "curve.png"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "evaluate", str(PRESSURE_DECAY), "--factors", "0.5,1,2", "--runs", "4",
                "--scheduler", dask_scheduler, "--seed", "11", "--plot", str(plot), "--json",
            ]
        )  # fmt: skip
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue()), err.getvalue(), plot


def test_an_evaluation_on_the_scheduler_counts_every_run(evaluated: tuple[dict[str, Any], str, Path]) -> None:
    report, _, _ = evaluated
    assert report["procedure"] == "pressure_decay" and report["runs_per_factor"] == 4 and report["seed"] == 11
    assert [f["factor"] for f in report["factors"]] == [0.5, 1.0, 2.0]
    for entry in report["factors"]:
        check_factor(entry, 4)
    half, _, double = report["factors"]
    assert half["counts"]["PASS"] >= 3 and double["counts"]["FAIL"] >= 3


def test_the_true_leak_is_what_the_runs_measure(evaluated: tuple[dict[str, Any], str, Path]) -> None:
    report, _, _ = evaluated
    limit = report["limit_pa_m3_s"]
    for entry in report["factors"]:
        assert entry["true_leak_pa_m3_s"] == pytest.approx(entry["factor"] * limit, rel=1e-9)
        # The orifice set from the probed conditions leaks what was asked, as the fit reads it.
        assert entry["mean_measured_pa_m3_s"] == pytest.approx(entry["true_leak_pa_m3_s"], rel=0.02)


def test_progress_goes_to_stderr_and_the_curve_to_a_png(evaluated: tuple[dict[str, Any], str, Path]) -> None:
    _, err, plot = evaluated
    assert "evaluate: 12/12 runs" in err and "runs/s" in err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_local_cluster_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = rig(
        capsys, "evaluate", str(PRESSURE_DECAY), "--factors", "2", "--runs", "2", "--workers", "1", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["workers"] == "local:1"
    [entry] = report["factors"]
    check_factor(entry, 2)
    assert entry["counts"]["FAIL"] == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--factors", "0.5,x"], "'x' is not a number"),
        (["--factors", "0,1"], "'0' is not a positive factor"),
        (["--runs", "0"], "--runs must be at least 1"),
        (["--workers", "100000"], "--workers 100000: at most 4 per CPU here"),
        # Refused at once (an unreachable host is waited for, 10 s, and said the same way).
        (["--scheduler", "nowhere://127.0.0.1"], "cannot connect"),
        (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "give one or the other"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    args = ["evaluate", str(PRESSURE_DECAY), "--runs", "1", *argv]
    code, out, err = rig(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_a_task_that_raises_comes_back_aborted_with_its_reason() -> None:
    procedure = load_procedure(PRESSURE_DECAY)
    files = ProcedureText.read(procedure, PRESSURE_DECAY)
    broken = ProcedureText(files.source, files.text, files.bench_source, "instruments: [not, a, mapping\n")
    result = run_task(RunTask(broken, 1.0, 1e-11, 3), "decay")
    assert result.verdict == "ABORTED" and result.factor == 1.0 and result.seed == 3
    assert result.reason and "\n" not in result.reason
