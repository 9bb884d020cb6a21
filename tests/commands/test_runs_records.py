"""Records that are easy to use (issue 15, item 6): the run list whole, a run's results as a table,
distinct messages for unknown and ambiguous ids, and a recorded window refitted.

The runs are real: a simulated ``pressure_decay`` run over the real stack (pyvisa-py over
loopback TCP to the simulated instruments), recorded as ``rig run`` records it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rig.cli import main
from rig.commands.runs_show import plain_lines, runs_table
from rig.errors import InputError
from rig.record.run_store import RunStore
from tests.commands.cli_runs import rig_run_sim_here
from tests.commands.test_runs_cli import record_dead_run, record_run
from tests.engine.sim_runs import PROCEDURES


def rig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def decay_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of one simulated pressure_decay run (PASS), recorded by ``rig run --sim``."""
    return record_decay(tmp_path_factory.mktemp("decay") / "data")


def record_decay(data: Path) -> Path:
    """``rig run pressure_decay --sim --seed 3`` into ``data`` (in this process); the run directory."""
    return rig_run_sim_here(PROCEDURES / "pressure_decay.yaml", data, "--seed", "3")[1]


def recorded(run_dir: Path, name: str = "decay") -> dict[str, Any]:
    """The measurement ``name`` as ``results.json`` records it."""
    entry = json.loads((run_dir / "results.json").read_text())["measurements"][name]
    assert isinstance(entry, dict)
    return entry


def close_to_recorded(refit: float, entry: dict[str, Any]) -> bool:
    """The refit rate is the recorded one: the same samples (the engine records one sample per
    instant, exactly the series its fit saw), the same fit."""
    return math.isclose(refit, entry["value"], rel_tol=1e-9, abs_tol=1e-6 * entry["stderr"])


@pytest.fixture
def three_runs(tmp_path: Path) -> Path:
    """A passed, a failed and an interrupted run (their ids all start with the year)."""
    root = tmp_path / "data"
    record_run(root, "PASS")
    record_run(root, "FAIL")
    record_dead_run(root)
    return root


# --- rig runs: whole ids and statuses ----------------------------------------------------------------


def test_piped_rig_runs_prints_every_whole_id_and_status(three_runs: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "--data-dir", str(three_runs)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.split()[:5] == ["run", "procedure", "bench", "started", "status"]
    runs = RunStore(three_runs).runs()
    assert len(lines) == len(runs) == 3
    for line, summary in zip(lines, runs, strict=True):
        cells = line.split()
        assert cells[0] == summary.run_id
        assert cells[4] == summary.status
    assert {line.split()[4] for line in lines} == {"passed", "failed", "interrupted"}
    assert "…" not in done.stdout


def test_plain_columns_keep_empty_cells_as_dashes(three_runs: Path) -> None:
    interrupted = next(r for r in RunStore(three_runs).runs() if r.status == "interrupted")
    (line,) = plain_lines([interrupted])[1:]
    cells = line.split()
    assert cells[4:6] == ["interrupted", "-"]  # no verdict: a dash, so the columns still split


@pytest.mark.parametrize("width", [60, 80])
def test_at_a_narrow_terminal_ids_and_statuses_are_never_cut(three_runs: Path, width: int) -> None:
    runs = RunStore(three_runs).runs()
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=True, color_system=None).print(runs_table(runs, "Runs"))
    text = out.getvalue()
    for summary in runs:
        assert summary.run_id in text
        assert summary.status in text


def test_rig_runs_json_lists_whole_ids_and_statuses(
    capsys: pytest.CaptureFixture[str], three_runs: Path
) -> None:
    code, out, _ = rig(capsys, "runs", "--data-dir", str(three_runs), "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(r["run_id"], r["status"]) for r in listed] == [
        (r.run_id, r.status) for r in RunStore(three_runs).runs()
    ]


# --- unknown and ambiguous ids -------------------------------------------------------------------------


def test_an_unknown_id_and_an_ambiguous_prefix_say_different_things(
    capsys: pytest.CaptureFixture[str], three_runs: Path
) -> None:
    ids = [r.run_id for r in RunStore(three_runs).runs()]
    code, out, err = rig(capsys, "runs", "show", "no-such-run", "--data-dir", str(three_runs))
    assert (code, out) == (2, "")
    assert err.strip() == f"rig runs: error: no run 'no-such-run' in {three_runs} (`rig runs` lists them)"
    code, out, err = rig(capsys, "runs", "show", ids[0][:2], "--data-dir", str(three_runs))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert f"run id {ids[0][:2]!r} is ambiguous: 3 runs start with it" in err
    assert all(i in err for i in ids)  # the candidates, named in full


def test_an_ambiguous_prefix_names_a_few_candidates_not_all(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    for _ in range(7):
        record_run(store.data_dir)
    with pytest.raises(
        InputError, match=r"7 runs start with it \(.* and 2 more\); give more of it"
    ) as caught:
        store.find("20")
    assert str(caught.value).count(", ") == 4  # five named


def test_a_whole_id_is_found_even_when_it_prefixes_another(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    record_run(store.data_dir)
    (only,) = store.runs()
    assert store.find(only.run_id) == only
    assert store.find(only.run_id[:-1]) == only


# --- rig runs show: the results as a table ------------------------------------------------------------


def test_runs_show_prints_the_results_as_a_table(capsys: pytest.CaptureFixture[str], decay_run: Path) -> None:
    data = decay_run.parents[1]
    results = json.loads((decay_run / "results.json").read_text())
    decay = results["measurements"]["decay"]
    code, out, err = rig(capsys, "runs", "show", decay_run.name, "--data-dir", str(data))
    assert (code, err) == (0, "")
    assert "{" not in out  # no Python dict dumped
    for header in ("measurement", "outcome", "value ± U (k=2)", "limit", "unit"):
        assert header in out
    (row,) = [line for line in out.splitlines() if "decay" in line and "PASS" in line]
    # In the unit the procedure wrote its limit in (0.5 sccm), as `rig run` prints it.
    assert decay["written_unit"] == "sccm"
    per_sccm = decay["limit"] / 0.5  # Pa·m³/s per sccm, as the record converts it
    value, expanded = decay["value"] / per_sccm, 2.0 * decay["stderr"] / per_sccm
    assert f"{value:.4g} ± {expanded:.4g}" in row
    assert "0.5" in row and row.rstrip("│ ").endswith("sccm")
    assert f"run_id: {decay_run.name}" in out


def test_runs_show_json_still_holds_the_results(capsys: pytest.CaptureFixture[str], decay_run: Path) -> None:
    data = decay_run.parents[1]
    code, out, _ = rig(capsys, "runs", "show", decay_run.name, "--data-dir", str(data), "--json")
    assert code == 0
    detail = json.loads(out)
    assert detail["results"]["measurements"]["decay"]["outcome"] == "PASS"


# --- a run's own samples.csv, re-analysed --------------------------------------------------------------


def test_a_runs_samples_have_one_row_per_time_stamp(decay_run: Path) -> None:
    with (decay_run / "samples.csv").open(newline="") as fh:
        _, *rows = list(csv.reader(fh))
    times = [float(r[0]) for r in rows]
    assert len(times) == len(set(times)) > 1000
    assert times == sorted(times)


def test_a_runs_samples_have_one_row_per_instant(decay_run: Path) -> None:
    # The virtual clock stands still while steps that take no time sample; the engine records the
    # instant's first reading once (and a step's fit sees that one), so no time stamp repeats.
    with (decay_run / "samples.csv").open(newline="") as fh:
        times = [float(row[0]) for row in list(csv.reader(fh))[1:]]
    assert len(times) > 1000
    assert all(b > a for a, b in itertools.pairwise(times))


def test_rig_analyze_reads_a_runs_own_samples(capsys: pytest.CaptureFixture[str], decay_run: Path) -> None:
    samples = decay_run / "samples.csv"
    code, out, err = rig(
        capsys, "analyze", str(samples), "--pressure-column", "p_article", "--volume", "1 L", "--json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["n"] > 1000


def test_rig_analyze_with_the_recorded_window_gives_the_recorded_rate(
    capsys: pytest.CaptureFixture[str], decay_run: Path
) -> None:
    decay = recorded(decay_run)
    start, end = decay["window_s"]
    argv = ["analyze", str(decay_run / "samples.csv"), "--pressure-column", "p_article"]
    argv += ["--temperature-column", "t_article", "--volume", "1 L", "--json"]
    code, out, err = rig(capsys, *argv, "--from", repr(start), "--to", repr(end))
    assert (code, err) == (0, ""), err
    result = json.loads(out)
    assert result["n"] == decay["n"]
    assert close_to_recorded(result["leak_rate_pa_m3_s"], decay)


# --- rig runs analyze -----------------------------------------------------------------------------------


def test_runs_analyze_refits_the_recorded_window(capsys: pytest.CaptureFixture[str], decay_run: Path) -> None:
    data = str(decay_run.parents[1])
    decay = recorded(decay_run)
    code, out, err = rig(
        capsys, "runs", "analyze", decay_run.name, "--step", "decay", "--data-dir", data, "--json"
    )
    assert (code, err) == (0, ""), err
    refit = json.loads(out)
    assert refit["n"] == decay["n"]
    assert refit["duration_s"] == pytest.approx(decay["window_s"][1] - decay["window_s"][0])
    assert close_to_recorded(refit["leak_rate_pa_m3_s"], decay)
    assert refit["limit_pa_m3_s"] == pytest.approx(decay["limit"])
    assert refit["verdict"] == "PASS"
    assert refit["method"] == "ols-pressure-temperature-compensated"  # the step's thermometer

    # The table is rig analyze's own (one printer for both).
    code, table, err = rig(
        capsys, "runs", "analyze", decay_run.name[:15], "--step", "decay", "--data-dir", data
    )
    assert (code, err) == (0, "")
    assert "Leak rate" in table and "601 used" in table and "PASS" in table


def test_runs_analyze_refuses_an_unknown_measurement(
    capsys: pytest.CaptureFixture[str], decay_run: Path
) -> None:
    data = str(decay_run.parents[1])
    code, out, err = rig(capsys, "runs", "analyze", decay_run.name, "--step", "nope", "--data-dir", data)
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"rig runs: error: run {decay_run.name} has no measurement 'nope' (its measurements: decay)"
    )


def test_runs_analyze_of_an_unknown_run_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = rig(capsys, "runs", "analyze", "x", "--step", "decay", "--data-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert "no run 'x'" in err


# --- rig alone ------------------------------------------------------------------------------------------


def test_rig_alone_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = rig(capsys)
    assert (code, out) == (2, "")
    assert err.startswith("usage: rig")
    for command in ("analyze", "run", "runs", "validate"):
        assert command in err
    assert "rig: error" not in err


def test_runs_show_states_a_comparison(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    _, run_dir = rig_run_sim_here(PROCEDURES / "seal_repair_certification.yaml", data)
    code, out, err = rig(capsys, "runs", "show", run_dir.name, "--data-dir", str(data))
    assert (code, err) == (0, "")
    (comparison,) = json.loads((run_dir / "results.json").read_text())["comparisons"]
    (line,) = [x for x in out.splitlines() if "reduction factor" in x]
    assert line.startswith(f"{comparison['name']}: {comparison['before']} to {comparison['after']}")
    assert f"reduction factor {comparison['reduction_factor']:.4g}" in line
    assert "MEASURED" in out and "PASS" in out


def test_runs_analyze_reads_an_older_record_with_repeated_times(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run_dir = record_decay(tmp_path / "data")
    decay = recorded(run_dir)
    start = decay["window_s"][0]
    # As the writer recorded before one row per time stamp: a second reading where two steps met.
    samples = run_dir / "samples.csv"
    lines = samples.read_text().splitlines(keepends=True)
    (at,) = [i for i, line in enumerate(lines) if line.startswith(f"{start!r},")]
    cells = lines[at].split(",")
    lines.insert(at + 1, ",".join([cells[0], "decay", *cells[2:]]))
    samples.write_text("".join(lines))

    code, out, err = rig(capsys, "analyze", str(samples), "--pressure-column", "p_article", "--volume", "1 L")
    assert (code, out) == (2, "")
    assert f"time does not increase at data row {at + 1} ({start!r} s then {start!r} s)" in err
    assert "np.float64" not in err

    data = str(tmp_path / "data")
    code, out, err = rig(
        capsys, "runs", "analyze", run_dir.name, "--step", "decay", "--data-dir", data, "--json"
    )
    assert (code, err) == (0, "")
    refit = json.loads(out)
    assert refit["n"] == decay["n"]
    assert close_to_recorded(refit["leak_rate_pa_m3_s"], decay)
