"""The local data directory as a history source, over hand-made records (no run needed):
which runs count, in what order, in what unit, and what is passed over and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rig.record.local_history import LocalHistory
from rig.record.run_store import RunStore

PROCEDURE_YAML = "procedure: leak\nmain:\n  - measure_decay: {name: decay, limit: 0.5 sccm}\n"


def recorded(data_dir: Path, results: dict[str, Any] | str | None, status: str = "passed") -> str:
    """A run of procedure ``leak`` with ``results`` as its results.json (text: written as is; None: none)."""
    store = RunStore(data_dir)
    writer = store.create("leak", "bench-a", ["p"], {}, {"procedure.yaml": PROCEDURE_YAML})
    if results is not None:
        text = results if isinstance(results, str) else json.dumps(results)
        (writer.run_dir / "results.json").write_text(text)
    writer.close()
    if status != "running":
        store.finish(writer.run_id, status, None, None)
    return writer.run_id


def decay(value: float | None, **more: Any) -> dict[str, Any]:
    return {"verdict": "PASS", "measurements": {"decay": {"value": value, "stderr": 1e-5, **more}}}


def test_finished_runs_oldest_first_with_intervals_and_the_written_unit(tmp_path: Path) -> None:
    first = recorded(tmp_path, decay(2e-4, unit="Pa*m**3/s", limit=9e-4, outcome="PASS", written_unit="sccm"))
    # An older record keeps no written_unit: the recorded procedure's limit tells it.
    second = recorded(tmp_path, decay(3e-4, unit="Pa*m**3/s", limit=9e-4, outcome="PASS"))
    # mbar·L/s is 0.1 Pa·m³/s: a value recorded in it is converted.
    third = recorded(tmp_path, decay(4e-3, unit="mbar*L/s", stderr=1e-4), status="failed")
    recorded(tmp_path, None, status="running")  # not finished: passed over, not skipped
    survey = LocalHistory(tmp_path).survey("leak", "decay")
    assert [p.run_id for p in survey.points] == [first, second, third]
    a, b, c = survey.points
    assert (a.value, a.ci95_low, a.ci95_high, a.limit) == pytest.approx((2e-4, 1.8e-4, 2.2e-4, 9e-4))
    assert a.unit == b.unit == "sccm" and a.outcome == "PASS" and a.bench == "bench-a"
    assert (c.value, c.ci95_low, c.ci95_high) == pytest.approx((4e-4, 3.8e-4, 4.2e-4))
    assert survey.skipped == [] and survey.measurements_seen == ["decay"]
    assert LocalHistory(tmp_path).history("leak", "decay") == survey.points


def test_runs_without_a_value_or_with_a_damaged_record_are_skipped_with_the_reason(tmp_path: Path) -> None:
    good = recorded(tmp_path, decay(2e-4))
    no_value = recorded(tmp_path, decay(None), status="aborted")
    none_taken = recorded(tmp_path, {"verdict": "ABORTED", "measurements": {}}, status="aborted")
    damaged = recorded(tmp_path, "{not json")
    missing = recorded(tmp_path, None, status="aborted")
    odd_unit = recorded(tmp_path, decay(1.0, unit="furlong"))
    survey = LocalHistory(tmp_path).survey("leak", "decay")
    assert [p.run_id for p in survey.points] == [good]
    why = dict(survey.skipped)
    assert list(why) == [no_value, none_taken, damaged, missing, odd_unit]
    assert why[no_value] == "the measurement has no value (the run ended before it)"
    assert why[none_taken] == "it recorded no measurement 'decay'"
    assert "damaged" in why[damaged] and "is missing" in why[missing]
    assert why[odd_unit] == "its unit 'furlong' is no leak-rate unit"
    assert survey.procedures_seen == ["leak"]
    assert LocalHistory(tmp_path).survey("other", "decay").points == []
