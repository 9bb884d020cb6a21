"""A run directory read back as a RunRecord, and a Measurement through its JSON object and back.

Simulated runs of the shipped procedures are read back and must hold what the engine
returned, measurement for measurement, and write back exactly the results file on disk. A
measurement's JSON object reads back as the measurement it was written from, whatever its
numbers (NaN and infinities included) and whichever fields are missing. Older and damaged
records load with "not recorded" (None) where they lack something; a directory that is no run,
or a run without results, is refused in one line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.cli import main
from rig.engine.runner import RunVerdict
from rig.errors import InputError
from rig.outcome import Outcome
from rig.record import Measurement, RunRecord
from rig.record.measurement import (
    E2930,
    KNOWN_KEYS,
    UNIT,
    Comparison,
    FitLine,
    ReferenceLeak,
    UncertaintyBudget,
)
from rig.record.results import RESULTS, RunResults, write_results
from rig.record.run_record import RUN_INFO
from rig.record.run_store import DamagedRecordError
from rig.record.run_writer import SAMPLES
from tests.engine.sim_runs import ISS, PROCEDURES, Finished, run

# --- a simulated run, read back --------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Finished]:
    """The shipped procedure of that name run once in simulation (the ISS mockup for a segment search)."""
    done: dict[str, Finished] = {}

    def ran(procedure: str) -> Finished:
        if procedure not in done:
            bench = ISS if procedure == "compartment_isolation" else None
            done[procedure] = run(tmp_path_factory.mktemp(procedure), procedure, bench)
        return done[procedure]

    return ran


@pytest.mark.integration
@pytest.mark.parametrize(
    "procedure", ["seal_repair_certification", "reference_leak_check", "compartment_isolation"]
)
def test_a_simulated_run_reads_back_as_the_engine_returned_it(
    simulated: Callable[[str], Finished], procedure: str
) -> None:
    done = simulated(procedure)
    outcome = done.outcome
    record = RunRecord.load(done.run_dir)
    assert record.results is not None
    # Measurement objects equal to the engine's, names included, of every kind (a decay with and
    # without a limit, a reference-leak check, ranked segments).
    assert record.measurements == outcome.measurements
    assert all(isinstance(m, Measurement) for m in record.measurements.values())
    assert record.verdict is outcome.verdict and record.results.reason == outcome.reason
    assert record.results.safe_state_confirmed is outcome.safe_state_confirmed
    assert record.results.safe_state_reason == outcome.safe_state_reason
    assert record.results.safe_state_evidence == outcome.safe_state_evidence
    assert record.results.findings == outcome.findings
    assert record.results.faults == json.loads(json.dumps(outcome.faults))
    # Written again, the results are the file on disk, byte for byte.
    text = (done.run_dir / RESULTS).read_text()
    assert json.dumps(record.results.to_json(), indent=2) + "\n" == text
    assert outcome.results() == json.loads(text)


DECAY_KEYS = [
    "value",
    "unit",
    "stderr",
    "stderr_type_b",
    "ucl95",
    "lcl95",
    "n",
    "channel",
    "window_s",
    "line",
]
# The objects results.json has held for each kind of measurement (records on disk rely on them).
RECORDED_KEYS = {
    ("seal_repair_certification", "before_repair"): [*DECAY_KEYS, "uncertainty", "outcome"],
    ("seal_repair_certification", "after_repair"): [
        *DECAY_KEYS,
        *("uncertainty", "outcome", "limit", "additional_time_s", "refusal", "e2930"),
    ],
    ("reference_leak_check", "leak_standard"): [
        *("value", "unit", "stderr", "outcome", "certified", "tolerance_relative", "deviation_relative"),
        # Its budget by term (issue 14: every measurement lists its terms, zero_drift among them).
        *("background", "n", "channel", "window_s", "uncertainty", "certificate"),
    ],
    ("compartment_isolation", "isolation.prk"): [
        *DECAY_KEYS,
        *("uncertainty", "outcome", "limit", "additional_time_s", "refusal", "e2930", "volume_m3", "rank"),
    ],
}


@pytest.mark.integration
@pytest.mark.parametrize(("procedure", "name"), list(RECORDED_KEYS))
def test_each_kind_of_measurement_is_recorded_as_it_always_was(
    simulated: Callable[[str], Finished], procedure: str, name: str
) -> None:
    done = simulated(procedure)
    recorded = json.loads((done.run_dir / RESULTS).read_text())["measurements"][name]
    assert list(recorded) == RECORDED_KEYS[procedure, name]
    assert list(done.outcome.measurements[name].to_json()) == RECORDED_KEYS[procedure, name]


@pytest.mark.integration
@pytest.mark.parametrize("procedure", sorted({procedure for procedure, _ in RECORDED_KEYS}))
def test_every_measurements_budget_names_its_terms_zero_drift_among_them(
    simulated: Callable[[str], Finished], procedure: str
) -> None:
    """Issue 14's acceptance: a decay's, a reference-leak check's and every segment's budget in
    results.json lists its terms by name, the gauge's zero drift as ``zero_drift``."""
    measurements = json.loads((simulated(procedure).run_dir / RESULTS).read_text())["measurements"]
    assert measurements
    for name, entry in measurements.items():
        terms = entry["uncertainty"]
        assert {"fit", "resolution", "zero_drift", "combined"} <= terms.keys(), name
        assert terms["zero_drift"] > 0.0, name


@pytest.mark.integration
def test_the_typed_findings_of_a_repair_and_a_segment_search(simulated: Callable[[str], Finished]) -> None:
    repair = RunRecord.load(simulated("seal_repair_certification").run_dir).results
    assert repair is not None
    (comparison,) = repair.comparisons
    assert (comparison.name, comparison.before, comparison.after) == (
        "repair",
        "before_repair",
        "after_repair",
    )
    assert comparison.reduction_factor is not None and comparison.interval95 is not None
    low, high = comparison.interval95
    assert low < comparison.reduction_factor < high
    assert repair.leaking_segment is None
    segments = RunRecord.load(simulated("compartment_isolation").run_dir).results
    assert segments is not None and segments.leaking_segment == "prk" and segments.comparisons == ()


def test_a_run_recorded_by_rig_run_reads_back_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    procedure = PROCEDURES / "pressure_decay.yaml"
    code = main(["run", str(procedure), "--sim", "--data-dir", str(tmp_path), "--json"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, summary
    record = RunRecord.load(summary["run_dir"])
    assert record.unread == {}
    assert record.info["run_id"] == summary["run_id"] and record.info["sim"] is True
    assert record.procedure["procedure"] == "pressure_decay" and record.bench["bench"]
    assert record.bench_spec is not None and "p_article" in record.bench_spec.channels
    assert [s.kind for s in record.steps][:3] == ["set_valves", "set_valves", "fill"]
    assert record.samples is not None and record.samples.time_s.size > 100
    assert "p_article" in record.samples.channels
    assert any(e["kind"] == "measurement" for e in record.events)
    assert record.verdict is Outcome.PASS
    for name, shown in summary["measurements"].items():
        measured = record.measurements[name]
        # The line states the record's numbers, in the unit the procedure wrote its limit in.
        assert (measured.value_pa_m3_s, measured.written_unit, measured.outcome) == (
            shown["value_pa_m3_s"],
            shown["unit"],
            shown["outcome"],
        )


# --- a measurement's JSON object --------------------------------------------------------------------

NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**53), 2**53)
FLOATS = st.none() | st.floats(allow_nan=True, allow_infinity=True)
TEXT = st.none() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
FIT_LINES = st.builds(
    FitLine,
    t0_s=st.floats(allow_nan=True, allow_infinity=True),
    intercept_pa=st.floats(allow_nan=True, allow_infinity=True),
    slope_pa_s=st.floats(allow_nan=True, allow_infinity=True),
    compensated_to_k=FLOATS,
)
BUDGETS = st.builds(
    UncertaintyBudget,
    terms=st.dictionaries(st.text(max_size=12).filter(lambda k: k != "combined"), FLOATS, max_size=6),
    combined=FLOATS,
)
# A reference-leak check always states the certified rate it was judged against.
REFERENCES = st.builds(
    ReferenceLeak,
    certified_pa_m3_s=st.floats(allow_nan=True, allow_infinity=True),
    tolerance_relative=FLOATS,
    deviation_relative=FLOATS,
    background_pa_m3_s=FLOATS,
    certificate=TEXT,
)
MEASUREMENTS = st.builds(
    Measurement,
    name=TEXT,
    value_pa_m3_s=FLOATS,
    unit=st.none() | st.sampled_from([UNIT, "Pa", "1", "sccm"]),
    outcome=st.none() | st.sampled_from(Outcome),
    stderr_pa_m3_s=FLOATS,
    stderr_type_b_pa_m3_s=FLOATS,
    ucl95_pa_m3_s=FLOATS,
    lcl95_pa_m3_s=FLOATS,
    n=st.none() | st.integers(0, 10**9),
    channel=TEXT,
    window_s=st.none() | st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)),
    line=st.none() | FIT_LINES,
    uncertainty=st.none() | BUDGETS,
    limit_pa_m3_s=FLOATS,
    additional_time_s=FLOATS,
    refusal=TEXT,
    e2930=st.none() | st.builds(E2930, FLOATS, FLOATS, st.none() | st.booleans()),
    reference=st.none() | REFERENCES,
    volume_m3=FLOATS,
    rank=st.none() | st.integers(1, 100),
    extra=st.dictionaries(
        st.text(max_size=12).filter(lambda k: k not in KNOWN_KEYS), JSON_VALUES, max_size=3
    ),
)


def same(a: Any, b: Any) -> bool:
    """Equal, taking NaN as equal to NaN (a measurement of no data is NaN, and stays NaN)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(MEASUREMENTS)
def test_a_measurement_reads_back_from_its_json_object(measured: Measurement) -> None:
    written = measured.to_json()
    assert "name" not in written or "name" in measured.extra  # the name is the key it is recorded under
    # Through JSON text too: NaN and the infinities are written as JSON as Python writes it.
    text = json.dumps(written)
    back = Measurement.from_json(measured.name, json.loads(text))
    assert same(back, measured), (back, measured)
    assert json.dumps(back.to_json()) == text


def test_a_measurement_without_fields_of_its_own_keeps_none_of_its_keys() -> None:
    # A plugin's measurement: the keys it has, in its order, then its own.
    measured = Measurement(value_pa_m3_s=9.1e4, unit="Pa", outcome=Outcome.PASS, extra={"samples": 41})
    assert measured.to_json() == {"value": 9.1e4, "unit": "Pa", "outcome": "PASS", "samples": 41}
    assert type(measured.to_json()["outcome"]) is str  # a plain word in the record, not the enum
    # Judged against a limit, a decay states that nothing was refused and no more time would help.
    judged = dataclasses.replace(measured, limit_pa_m3_s=1e5)
    assert list(judged.to_json())[-3:] == ["additional_time_s", "refusal", "samples"]
    assert judged.to_json()["refusal"] is None
    with pytest.raises(ValueError, match="shadow"):
        Measurement(extra={"value": 1.0})


def test_withdrawing_a_verdict_says_why_and_suggests_no_wait() -> None:
    passed = Measurement(value_pa_m3_s=1e-5, outcome=Outcome.PASS, limit_pa_m3_s=1e-4, additional_time_s=None)
    refused = passed.withdrawn("not isolated: pump: no evidence it is closed")
    assert refused.outcome is Outcome.INCONCLUSIVE and refused.additional_time_s is None
    assert refused.refusal == "not isolated: pump: no evidence it is closed"
    assert passed.outcome is Outcome.PASS  # frozen: the original stands


def test_a_comparison_reads_back_from_its_json_object() -> None:
    unbounded = Comparison("repair", "before", "after", math.inf, (12.5, math.inf))
    assert unbounded.to_json() == {
        "name": "repair",
        "before": "before",
        "after": "after",
        "unit": "1",
        "reduction_factor": math.inf,
        "interval95": [12.5, math.inf],
    }
    assert Comparison.from_json(json.loads(json.dumps(unbounded.to_json()))) == unbounded
    # An older record held the rates themselves; a damaged one, anything.
    assert Comparison.from_json({"before": 5e-4, "after": 2e-5, "interval95": [1.0]}) == Comparison(
        None, 5e-4, 2e-5, None, None, None
    )
    assert Comparison.from_json("garbage") == Comparison(None, None, None, None, None, None)


# --- older and damaged records -----------------------------------------------------------------------

OLDER_RESULTS = {
    # Before the safe state's evidence, Type-B terms, budgets, E2930 and refusals were recorded.
    "verdict": "PASS",
    "reason": "every measurement within its limit",
    "safe_state_confirmed": True,
    "measurements": {
        "decay": {"value": 2.5e-4, "unit": "Pa*m**3/s", "stderr": 1e-5, "outcome": "PASS", "limit": 8.4e-4},
        "damaged": {"value": "high", "window_s": [1.0], "n": 3.5, "outcome": "SORT OF", "line": {"t0_s": 0}},
        "not an object": [1, 2, 3],
    },
    "leaking_segment": None,
}


def test_an_older_record_loads_with_not_recorded_for_what_it_lacks(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / RESULTS).write_text(json.dumps(OLDER_RESULTS))
    record = RunRecord.load(run_dir)
    assert record.info == {} and record.procedure == {} and record.bench == {}
    assert record.samples is None and record.steps == () and record.bench_spec is None and record.events == ()
    assert set(record.unread) == {RUN_INFO, SAMPLES, "procedure.yaml", "bench.yaml"}
    assert record.unread[SAMPLES].endswith("samples.csv is missing")
    results = record.results
    assert results is not None and results.verdict is Outcome.PASS
    assert (
        results.safe_state_reason is None and results.safe_state_evidence is None and results.faults is None
    )
    decay = record.measurements["decay"]
    assert decay.name == "decay" and decay.value_pa_m3_s == 2.5e-4 and decay.limit_pa_m3_s == 8.4e-4
    assert decay.stderr_type_b_pa_m3_s is None and decay.refusal is None and decay.e2930 is None
    assert decay.uncertainty is None and decay.line is None and decay.reference is None
    # What has the wrong type is not recorded, never a guess; what is unknown is kept.
    damaged = record.measurements["damaged"]
    assert (damaged.value_pa_m3_s, damaged.window_s, damaged.n, damaged.outcome, damaged.line) == (None,) * 5
    assert record.measurements["not an object"] == Measurement(name="not an object", unit=None)
    # Written again, what it lacked stays out (no safe-state reason, no faults, no evidence).
    again = results.to_json()
    assert list(again) == ["verdict", "reason", "safe_state_confirmed", "measurements", "leaking_segment"]
    assert RunResults.from_json(again) == results


def test_a_record_without_measurements_writes_none_back() -> None:
    assert RunResults.from_json({"verdict": "FAIL"}).to_json() == {"verdict": "FAIL"}
    assert RunResults.from_json({"verdict": "ABORTED", "measurements": {}}).to_json() == {
        "verdict": "ABORTED",
        "measurements": {},
    }


def test_a_run_that_has_not_finished_loads_only_when_asked_to(tmp_path: Path) -> None:
    done = run(tmp_path, "pressure_decay")
    (done.run_dir / RESULTS).unlink()
    with pytest.raises(InputError, match=r"results\.json: missing \(the run crashed, is still running"):
        RunRecord.load(done.run_dir)
    record = RunRecord.load(done.run_dir, finished=False)
    assert record.results is None and record.verdict is None and record.measurements == {}
    assert record.samples is not None and record.samples.time_s.size > 100
    record.require(RUN_INFO, SAMPLES)
    (done.run_dir / SAMPLES).write_bytes(b"\xff\xfe not text")
    with pytest.raises(DamagedRecordError, match=r"samples\.csv is damaged: not UTF-8"):
        RunRecord.load(done.run_dir, finished=False).require(RUN_INFO, SAMPLES)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, r"results\.json: missing"),
        (lambda d: shutil.rmtree(d), r"run directory .* is missing"),
        (lambda d: (shutil.rmtree(d), d.write_text("x")), r"is not a run directory"),
        (lambda d: (d / RESULTS).write_text("[1, 2]"), r"results\.json is damaged: not a JSON object"),
        (lambda d: (d / RESULTS).write_text('{"verdict": '), r"results\.json is damaged: not JSON"),
    ],
    ids=["empty-directory", "no-directory", "a-file", "results-not-an-object", "results-cut"],
)
def test_what_is_no_run_is_refused_in_one_line(tmp_path: Path, make: Any, message: str) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    make(run_dir)
    with pytest.raises(InputError, match=message) as refused:
        RunRecord.load(run_dir)
    assert "\n" not in str(refused.value)


# --- writing ----------------------------------------------------------------------------------------


def test_results_written_are_results_read(tmp_path: Path) -> None:
    results = RunResults(
        verdict=RunVerdict.INCONCLUSIVE,
        reason="not decisive, test longer: decay",
        measurements={
            "decay": Measurement(name="decay", value_pa_m3_s=math.nan, outcome=Outcome.INCONCLUSIVE)
        },
        safe_state_confirmed=False,
        safe_state_reason="p_chamber stalled at 107.8 kPa",
        safe_state_evidence={},
        findings={"comparisons": []},
        faults={"failed_reads": {"p_chamber": 3}},
        record_rebuilt="the run directory was removed during the run",
    )
    write_results(tmp_path, results.to_json())
    back = RunRecord.load(tmp_path).results
    assert same(back, results)
    assert list(json.loads((tmp_path / RESULTS).read_text())) == [
        "verdict",
        "reason",
        "safe_state_confirmed",
        "safe_state_reason",
        "safe_state_evidence",
        "measurements",
        "comparisons",
        "faults",
        "record_rebuilt",
    ]
