"""``verification_leak``: a measurement is vouched for by a calibrated leak the set-up must show.

On the vacuum mockup the chamber's rate of rise is measured, then ``cal_leak`` (8.0e-4
Pa·m³/s, certificate RL-AIR-2026-0778) is opened into the chamber: the rise must grow by the
certified rate. With the valve stuck closed (and its limit switches removed, so that only the
gas could tell) the rise does not grow: the check FAILs and the rate of rise is withdrawn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.engine.runner import RunVerdict
from rig.outcome import Outcome
from rig.procedure.loader import ProcedureInvalid, load_procedure
from rig.steps.verification_leak import NOT_SHOWN
from tests.engine.sim_runs import MOCKUP, PROCEDURES, run, variant, with_faults

VERIFIED = PROCEDURES / "verified_rate_of_rise.yaml"
CERTIFIED = 8.0e-4


def test_the_verification_leak_is_seen_and_the_measurement_stands(tmp_path: Path) -> None:
    done = run(tmp_path, "verified_rate_of_rise")
    check = done.outcome.measurements["rise_verification"]
    assert check.outcome is Outcome.PASS and check.refusal is None
    assert check.reference is not None and check.reference.certified_pa_m3_s == CERTIFIED
    assert check.reference.certificate == "RL-AIR-2026-0778"
    rise = done.outcome.measurements["rise"]
    assert check.reference.background_pa_m3_s == rise.value_pa_m3_s
    assert check.value_pa_m3_s is not None and check.stderr_pa_m3_s is not None
    assert abs(check.value_pa_m3_s - CERTIFIED) <= 2.0 * check.stderr_pa_m3_s
    assert rise.outcome is Outcome.PASS and rise.refusal is None
    assert done.outcome.verdict is RunVerdict.PASS


def test_a_leak_valve_stuck_closed_withdraws_the_measurement(tmp_path: Path) -> None:
    blind = variant(
        tmp_path,
        MOCKUP,
        lambda t: t.replace(
            "between: [leak_standard, chamber], position: {open: 113, closed: 114}",
            "between: [leak_standard, chamber]",
        ),
        "blind.yaml",
    )
    bench = with_faults(tmp_path, "{instrument: daq, kind: stuck_valve, channel: 206, at: 0 s}", source=blind)
    done = run(tmp_path, "verified_rate_of_rise", bench=bench)
    check = done.outcome.measurements["rise_verification"]
    assert check.outcome is Outcome.FAIL
    assert check.value_pa_m3_s is not None and abs(check.value_pa_m3_s) < 0.1 * CERTIFIED
    rise = done.outcome.measurements["rise"]
    assert rise.outcome is Outcome.INCONCLUSIVE
    assert rise.refusal is not None and rise.refusal.startswith(NOT_SHOWN)
    assert "certified at 0.0008" in rise.refusal
    # The rate itself is kept: only its verdict is withdrawn.
    assert rise.value_pa_m3_s is not None and rise.value_pa_m3_s > 0.0


def test_it_must_name_an_earlier_measurement_and_a_certified_leak(tmp_path: Path) -> None:
    text = VERIFIED.read_text().replace("benches/", f"{PROCEDURES}/benches/")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        text.replace("measurement: rise", "measurement: fall").replace("valve: cal_leak", "valve: vent")
    )
    with pytest.raises(ProcedureInvalid) as refused:
        load_procedure(wrong)
    message = str(refused.value)
    assert "no measurement 'fall' before this step to verify (taken before it: rise)" in message
    assert "valve 'vent' has no calibrated leak behind it" in message
    assert load_procedure(VERIFIED).main[-1].kind == "verification_leak"
