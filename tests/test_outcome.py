"""One outcome vocabulary: the analysis's verdict, a measurement's outcome and a run's verdict are one."""

from __future__ import annotations

import json

import pytest

from rig.analysis import Verdict
from rig.engine.runner import EXIT_CODES, STATUS, RunVerdict
from rig.outcome import Outcome, outcome_of


def test_verdicts_of_the_analysis_and_of_a_run_are_outcomes() -> None:
    assert Verdict is Outcome and RunVerdict is Outcome
    # A run ends in one of four; MEASURED is a measurement's, never a run's.
    assert set(EXIT_CODES) == set(STATUS) == set(Outcome) - {Outcome.MEASURED}


def test_an_outcome_is_its_word_wherever_it_is_written() -> None:
    assert json.dumps({"outcome": Outcome.INCONCLUSIVE}) == '{"outcome": "INCONCLUSIVE"}'
    assert f"{Outcome.PASS}: ok" == "PASS: ok" and str(Outcome.FAIL) == "FAIL"
    assert Outcome.PASS == "PASS" and Outcome("ABORTED") is Outcome.ABORTED


@pytest.mark.parametrize(
    ("recorded", "read"),
    [("PASS", Outcome.PASS), (Outcome.MEASURED, Outcome.MEASURED), ("pass", None), (None, None), (1, None)],
)
def test_a_recorded_outcome_is_read_as_one_or_as_none(recorded: object, read: Outcome | None) -> None:
    assert outcome_of(recorded) is read


def test_only_pass_and_fail_decide() -> None:
    assert [o for o in Outcome if o.decisive] == [Outcome.PASS, Outcome.FAIL]
