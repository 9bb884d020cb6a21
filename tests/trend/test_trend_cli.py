"""``rig trend`` end to end: simulated runs of ``pressure_decay.yaml`` recorded into one data directory,
one of them on a bench whose seal leaks more, read back as a trend with control limits.

Four runs of the shipped bench (seeds 1 to 4, about 0.275 sccm each) and then one on a variant
whose seal hole is 9 µm instead of 5 µm (about 0.89 sccm: FAIL). With five runs and the jump last,
center ≈ a + d/5 and MR̄ ≈ d/4, so the upper limit is ≈ a + 0.865·d and the leaky run (a + d) is
out of control (with four runs it would not be: 1/4 + 2.66/3 > 1). A run aborted before its
measurement (made by hand: the index and a results.json with no measurement) is skipped.
The runs are made once for the module, in this process (a run costs about a second here).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rig.analysis.control_chart import individuals_limits
from rig.cli import main
from rig.record.history import HistoryPoint
from rig.record.run_store import RunStore
from tests.commands.cli_runs import rig_run_sim_here

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
SHIPPED_SEAL = "diameter: 5 um"
TRENDED = ("--procedure", "pressure_decay", "--measurement", "decay")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def rig(*argv: str) -> tuple[int, str, str]:
    """``rig ARGV`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def leaky_mockup(directory: Path) -> Path:
    """The mock-up bench with its seal hole at 9 µm (the shipped one is 5 µm)."""
    text = MOCKUP.read_text()
    assert text.count(SHIPPED_SEAL) == 1
    path = directory / "vacuum_chamber_mockup_seal_9um.yaml"
    path.write_text(text.replace(SHIPPED_SEAL, "diameter: 9 um"))
    return path


def aborted_before_measuring(data_dir: Path) -> str:
    """A finished run of the procedure that ended before its measurement; its id."""
    store = RunStore(data_dir)
    writer = store.create("pressure_decay", "vacuum_chamber_mockup", ["p_article"], {}, {})
    document = {"verdict": "ABORTED", "reason": "operator stop", "measurements": {}}
    (writer.run_dir / "results.json").write_text(json.dumps(document))
    writer.close()
    store.finish(writer.run_id, "aborted", "ABORTED", "operator stop")
    return writer.run_id


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The data directory, each run's ``rig run --json`` line in order, the leaky and aborted run's ids."""
    data_dir = tmp_path_factory.mktemp("trend-data")
    runs = [rig_run_sim_here(PRESSURE_DECAY, data_dir, "--seed", str(seed))[0] for seed in (1, 2, 3, 4)]
    aborted = aborted_before_measuring(data_dir)
    bench = leaky_mockup(tmp_path_factory.mktemp("benches"))
    leaky, _ = rig_run_sim_here(PRESSURE_DECAY, data_dir, "--bench", str(bench), "--seed", "5", code=1)
    return {"data_dir": data_dir, "runs": [*runs, leaky], "leaky": leaky["run_id"], "aborted": aborted}


def test_json_gives_each_run_in_the_procedures_unit_with_limits_and_the_leaky_run_flagged(
    lab: dict[str, Any],
) -> None:
    code, out, err = rig("trend", *TRENDED, "--data-dir", str(lab["data_dir"]), "--json")
    assert code == 0, err
    trend = json.loads(out)
    assert trend["unit"] == "sccm" and trend["limit"] == pytest.approx(0.5)
    runs = trend["runs"]
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in lab["runs"]]  # oldest first
    for shown, ran in zip(runs, lab["runs"], strict=True):
        measured = ran["measurements"]["decay"]
        # As rig run (and the certificate) states it: in sccm, ± U with k = 2.
        assert shown["value"] == pytest.approx(measured["value"], rel=1e-12)
        assert shown["ci95_low"] == pytest.approx(measured["value"] - measured["uncertainty_k2"], rel=1e-12)
        assert shown["ci95_high"] == pytest.approx(measured["value"] + measured["uncertainty_k2"], rel=1e-12)
        assert shown["outcome"] == measured["outcome"]
        assert shown["bench"] == "vacuum_chamber_mockup" and shown["started"]
    assert [r["outcome"] for r in runs] == ["PASS"] * 4 + ["FAIL"]
    limits = individuals_limits([r["value"] for r in runs])
    assert limits is not None
    assert trend["control_limits"] == pytest.approx(
        {"center": limits.center, "lower": limits.lower, "upper": limits.upper}
    )
    assert trend["moving_range_mean"] == pytest.approx(limits.moving_range_mean)
    assert trend["flagged"] == [lab["leaky"]]
    assert [r["out_of_control"] for r in runs] == [False] * 4 + [True]
    assert trend["skipped"] == 1
    assert trend["skipped_runs"][0]["run_id"] == lab["aborted"]


def test_text_is_a_table_with_the_limits_and_the_flagged_run(lab: dict[str, Any]) -> None:
    code, out, err = rig("trend", *TRENDED, "--data-dir", str(lab["data_dir"]))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "pressure_decay · decay: 5 run(s), oldest first"
    assert "value [sccm]" in lines[1]
    rows = {line.split()[0]: line for line in lines[2:7]}
    assert set(rows) == {r["run_id"] for r in lab["runs"]}
    assert rows[lab["leaky"]].split()[-4:] == ["FAIL", "OUT", "OF", "CONTROL"]
    assert all("OUT OF CONTROL" not in row for run_id, row in rows.items() if run_id != lab["leaky"])
    assert "limit: 0.5 sccm" in lines
    assert any(line.startswith("control limits (individuals chart): center ") for line in lines)
    assert f"out of control: {lab['leaky']}" in lines
    assert any(line.startswith("skipped 1 run(s) without a value: " + lab["aborted"]) for line in lines)


def test_plot_is_a_png_and_json_stays_one_document(lab: dict[str, Any], tmp_path: Path) -> None:
    plot = tmp_path / "trend.png"
    code, out, err = rig("trend", *TRENDED, "--data-dir", str(lab["data_dir"]), "--plot", str(plot), "--json")
    assert code == 0, err
    assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 10_000
    assert json.loads(out)["flagged"] == [lab["leaky"]]
    assert err.strip() == f"plot written to {plot}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--procedure", "pressure_decay", "--measurement", "dcy"),
            "no finished run of procedure 'pressure_decay' holds a measurement 'dcy';"
            " measurements seen: decay",
        ),
        (
            ("--procedure", "presure_decay", "--measurement", "decay"),
            "no finished run of procedure 'presure_decay' holds a measurement 'decay'; measurements seen:"
            " none (procedures with finished runs in ",
        ),
    ],
)
def test_an_unknown_procedure_or_measurement_is_one_line_and_exit_2(
    lab: dict[str, Any], argv: Sequence[str], message: str
) -> None:
    code, out, err = rig("trend", *argv, "--data-dir", str(lab["data_dir"]))
    assert code == 2 and out == ""
    assert err.startswith(f"rig trend: error: {message}") and err.count("\n") == 1
    if "presure" in message:
        assert err.rstrip().endswith(": pressure_decay)")


def test_a_plot_that_cannot_be_written_is_one_line_before_any_output(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    plot = tmp_path / "no such dir" / "trend.png"
    code, out, err = rig("trend", *TRENDED, "--data-dir", str(lab["data_dir"]), "--plot", str(plot))
    assert code == 2 and out == ""
    assert err == f"rig trend: error: cannot write {plot}: no directory {plot.parent}\n"


def test_an_empty_data_directory_says_it_has_no_finished_runs(tmp_path: Path) -> None:
    code, out, err = rig("trend", *TRENDED, "--data-dir", str(tmp_path / "empty"))
    assert code == 2 and out == ""
    assert "measurements seen: none (no finished runs in " in err and err.count("\n") == 1


def test_without_the_lab_store_store_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rig.store.query", None)  # as if rig.store were not installed
    code, out, err = rig("trend", *TRENDED, "--store", "postgresql://127.0.0.1:1/lab")
    assert (code, out, err) == (2, "", "rig trend: error: the lab store is not available\n")


class FakeStore:
    """A :class:`rig.record.history.HistorySource` in place of the lab store, holding given points."""

    points: ClassVar[Sequence[HistoryPoint]] = ()
    urls: ClassVar[list[str]] = []

    def __init__(self, url: str) -> None:
        self.urls.append(url)

    def history(self, procedure: str, measurement: str) -> Sequence[HistoryPoint]:
        return [p for p in self.points if (procedure, measurement) == ("pressure_decay", "decay")]


def point(run_id: str, value: float, unit: str = "Pa*m**3/s") -> HistoryPoint:
    return HistoryPoint(run_id, f"2026-01-0{run_id[-1]}T10:00:00+0000", "bench-b", value, value - 1e-5,
                        value + 1e-5, 9e-4, unit, "PASS")  # fmt: skip


def fake_store(monkeypatch: pytest.MonkeyPatch, points: Sequence[HistoryPoint]) -> type[FakeStore]:
    module = types.ModuleType("rig.store.query")
    store = type("StoreHistory", (FakeStore,), {"points": points, "urls": []})
    module.StoreHistory = store  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rig.store.query", module)
    return store


def test_the_store_plugs_in_through_the_history_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    store = fake_store(monkeypatch, [point("r1", 5.0e-4), point("r2", 5.2e-4, unit="Pa*m**3/s")])
    code, out, err = rig("trend", *TRENDED, "--store", "postgresql://lab", "--json")
    assert code == 0, err
    trend = json.loads(out)
    assert store.urls == ["postgresql://lab"]
    assert trend["unit"] == "Pa*m**3/s" and trend["limit"] == pytest.approx(9e-4)
    assert [r["run_id"] for r in trend["runs"]] == ["r1", "r2"]
    assert trend["control_limits"]["center"] == pytest.approx(5.1e-4)
    assert trend["skipped"] is None  # the store does not say what it passed over
    code, _, err = rig(
        "trend", "--procedure", "other", "--measurement", "decay", "--store", "postgresql://lab"
    )
    assert code == 2
    assert err == (
        "rig trend: error: no finished run of procedure 'other' in the lab store holds a"
        " measurement 'decay'\n"
    )


def test_one_run_has_no_control_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_store(monkeypatch, [point("r1", 4.5e-4, unit="sccm")])
    code, out, err = rig("trend", *TRENDED, "--store", "postgresql://lab", "--json")
    assert code == 0, err
    trend = json.loads(out)
    assert trend["control_limits"] == {"center": None, "lower": None, "upper": None}
    assert trend["moving_range_mean"] is None and trend["flagged"] == []
    assert trend["unit"] == "sccm" and trend["runs"][0]["value"] == pytest.approx(
        0.5 * 4.5e-4 / 9.062e-4, rel=1e-6
    )
    code, out, err = rig("trend", *TRENDED, "--store", "postgresql://lab")
    assert code == 0, err
    assert "no control limits: an individuals chart needs at least two runs" in out.splitlines()
