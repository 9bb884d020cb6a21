"""The evaluation benchmark's measuring code, checked once on the smallest case (CI runs no timing).

``python -m tests.benchmarks.evaluation_speed`` makes the numbers of BENCHMARKS.md; here one
repetition of the transports' comparison runs, and both sides must reach the same verdict.
"""

from __future__ import annotations

from rig.evaluation.true_leak import TrueLeak, decisive_measurement, leak_ends, nominal_conditions
from rig.procedure.loader import load_procedure
from tests.benchmarks.evaluation_speed import PROCEDURES, transports


def test_both_transports_run_and_agree() -> None:
    procedure = load_procedure(PROCEDURES / "pressure_decay.yaml")
    measure = decisive_measurement(procedure)
    other = leak_ends(procedure, measure.volume)
    assert measure.limit_pa_m3_s is not None
    # The files' nominal conditions, not a probe run: twice the limit is a FAIL either way.
    conditions = nominal_conditions(procedure, measure, other)
    cd_area = TrueLeak(measure.name, measure.volume, measure.limit_pa_m3_s, other, conditions).cd_area_m2(2.0)
    inproc, tcp, verdicts = transports(procedure, cd_area, reps=1)
    assert verdicts == ["FAIL/FAIL"]
    assert len(inproc.per_rep) == len(tcp.per_rep) == 1 and min(inproc.per_rep + tcp.per_rep) > 0
