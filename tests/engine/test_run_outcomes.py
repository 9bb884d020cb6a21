"""How runs end, judged by the simulator's physics and not only by the controller's belief.

Every test runs a shipped procedure in-process over the real stack (pyvisa-py over loopback
TCP to the simulated servers) on a virtual clock, on the shipped bench or a variant of it
written to ``tmp_path``; after the run the physics itself is asked whether the valves
sit as the safe state says and whether the gas followed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import Runner, RunVerdict
from rig.outcome import Outcome
from rig.record.run_store import read_samples
from tests.engine.sim_runs import ISS, MOCKUP, PROCEDURES, overfilling, run, variant, with_faults

pytestmark = pytest.mark.integration


# --- the shipped procedures ---------------------------------------------------------------------


def test_a_normal_end_leaves_the_physics_safe(tmp_path: Path) -> None:
    done = run(tmp_path, "pressure_decay")
    assert done.outcome.verdict is RunVerdict.PASS and done.outcome.safe_state_confirmed
    done.safe_in_physics()


def test_reference_leak_check_agrees_with_the_certificate(tmp_path: Path) -> None:
    done = run(tmp_path, "reference_leak_check")
    entry = done.outcome.measurements["leak_standard"]
    assert done.outcome.verdict is RunVerdict.PASS, done.outcome.reason
    assert entry.outcome is Outcome.PASS
    # The standard's orifice delivers 8.0e-4 Pa·m³/s into vacuum; background is subtracted.
    assert abs(entry.reference.deviation_relative) < 0.05
    # The article's seal and the chamber's walls leak into it too: gas comes in (negative outflow).
    assert entry.reference.background_pa_m3_s < 0.0
    done.safe_in_physics()


def test_a_wrong_certificate_fails_the_reference_check_and_the_rig_ends_safe(tmp_path: Path) -> None:
    text = (PROCEDURES / "reference_leak_check.yaml").read_text()
    wrong = tmp_path / "wrong_certificate.yaml"
    wrong.write_text(text.replace("certified_rate: 8.0e-4 Pa*m**3/s", "certified_rate: 1.2e-3 Pa*m**3/s"))
    # The bench's certificate for the standard says the same wrong rate (else validation refuses).
    bench = variant(tmp_path, MOCKUP, lambda t: t.replace("rate: 8.0e-4 Pa*m**3/s", "rate: 1.2e-3 Pa*m**3/s"))
    done = run(tmp_path, wrong, bench=bench)
    assert done.outcome.verdict is RunVerdict.FAIL
    assert done.outcome.measurements["leak_standard"].outcome is Outcome.FAIL
    assert done.outcome.safe_state_confirmed
    done.safe_in_physics()


def test_seal_repair_measures_before_and_after_the_operator_s_repair(tmp_path: Path) -> None:
    done = run(tmp_path, "seal_repair_certification")
    before = done.outcome.measurements["before_repair"]
    after = done.outcome.measurements["after_repair"]
    assert done.outcome.verdict is RunVerdict.PASS, done.outcome.reason
    assert before.outcome is Outcome.MEASURED and after.outcome is Outcome.PASS
    # 5 µm → 1 µm: the choked flow scales with the area, 25 times less.
    assert 15.0 < before.value_pa_m3_s / after.value_pa_m3_s < 35.0
    actions = [e for e in done.events() if e["kind"] == "operator" and e.get("action") == "repair_seal"]
    assert len(actions) == 1
    assert done.clock.now() > 3600.0  # over an hour of simulated time
    done.safe_in_physics()


def test_a_declined_repair_aborts_and_still_ends_safe(tmp_path: Path) -> None:
    def declining(runner: Runner) -> NullObserver:
        runner.answer = lambda message: False
        return NullObserver()

    done = run(tmp_path, "seal_repair_certification", observer=declining)
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert "operator answered no" in done.outcome.reason
    done.safe_in_physics()


@pytest.mark.parametrize("seed", range(20))
def test_compartment_isolation_names_the_leaking_vestibule(tmp_path: Path, seed: int) -> None:
    done = run(tmp_path, "compartment_isolation", seed=seed)
    assert done.outcome.findings["leaking_segment"] == "prk"
    ranked = sorted(
        (m for m in done.outcome.measurements.values() if m.rank is not None), key=lambda m: m.rank or 0
    )
    assert ranked[0].channel == "p_prk" and ranked[0].outcome is Outcome.FAIL
    assert done.outcome.verdict is RunVerdict.FAIL
    done.clock.advance(10.0)  # a hatch takes 5 s to move
    for valve in done.procedure.bench.valves:  # every hatch open again
        assert done.simulation.valve_is_open(valve)


def test_compartment_isolation_follows_the_leak_to_another_segment(tmp_path: Path) -> None:
    bench = variant(
        tmp_path,
        ISS,
        lambda t: t.replace(
            "- {between: [prk, space], kind: orifice", "- {between: [pkho, space], kind: orifice"
        ),
    )
    done = run(tmp_path, "compartment_isolation", bench=bench)
    assert done.outcome.findings["leaking_segment"] == "pkho"


def test_a_quiet_station_names_no_segment(tmp_path: Path) -> None:
    bench = variant(
        tmp_path,
        ISS,
        lambda t: t.replace("diameter: 236 um", "diameter: 1 um").replace(
            "diameter: 88 um", "diameter: 1 um"
        ),
    )
    done = run(tmp_path, "compartment_isolation", bench=bench)
    assert done.outcome.findings["leaking_segment"] is None
    assert done.outcome.verdict is not RunVerdict.FAIL


# --- faults, interlocks, operators ---------------------------------------------------------------


def test_an_interlock_trips_to_the_safe_state_within_one_sample_period(tmp_path: Path) -> None:
    bench = variant(tmp_path, MOCKUP, lambda t: t.replace("max_pressure: 3 bar", "max_pressure: 1.5 bar"))
    done = run(tmp_path, overfilling(tmp_path), bench=bench)
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert done.outcome.reason.startswith("interlock: p_")
    events = done.events()
    trip = next(e for e in events if e["kind"] == "interlock")
    commanded = next(
        e for e in events if e["kind"] == "safe_state" and e["message"] == "safe state commanded"
    )
    assert commanded["t"] - trip["t"] <= done.procedure.sample_period_s
    assert not [e for e in events if e["kind"] == "step" and e["t"] >= trip["t"]]  # cleanup skipped
    _, rows = read_samples(done.run_dir)
    over = [float(r[0]) for r in rows if r[3] and float(r[3]) > 1.5e5]
    assert over and over[0] >= trip["t"] - done.procedure.sample_period_s
    assert done.outcome.safe_state_confirmed
    done.safe_in_physics()


def test_a_stuck_vent_is_a_fault_and_the_safe_state_is_not_claimed(tmp_path: Path) -> None:
    bench = with_faults(tmp_path, "{instrument: daq, kind: stuck_valve, channel: 202, at: 0 s}")
    done = run(tmp_path, "rate_of_rise", bench=bench)
    # The relay reads back as commanded, but the vent's switches (before the gas, which says the
    # same a moment later) show it never opened: not confirmed.
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert done.outcome.reason.startswith("safe state not confirmed: stuck valve: vent commanded open")
    assert "limit switches read closed" in done.outcome.reason
    assert not done.outcome.safe_state_confirmed
    done.clock.advance(120.0)
    # Only the article's and the reference's litres of air came in: far from vented, as reported.
    assert done.simulation.true_pressure_pa("chamber") < 20e3


def test_a_stuck_article_valve_stops_the_fill(tmp_path: Path) -> None:
    bench = with_faults(tmp_path, "{instrument: daq, kind: stuck_valve, channel: 205, at: 0 s}")
    done = run(tmp_path, "pressure_decay", bench=bench)
    assert done.outcome.verdict is RunVerdict.ABORTED
    # Its switches show it first; the gas (p_article not moving) would say so a moment later.
    assert done.outcome.reason.startswith("stuck valve: article commanded open")
    assert done.clock.now() < 120.0  # found within the response time, not at the fill's 5 min timeout


def test_an_instrument_that_stops_answering_aborts_the_run_safely(tmp_path: Path) -> None:
    bench = with_faults(tmp_path, "{instrument: gauges, kind: garbled, at: 12 min}")
    done = run(tmp_path, "pressure_decay", bench=bench)
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert done.outcome.reason.startswith("instrument fault: p_")
    assert done.outcome.faults["failed_reads"]["p_article"] > 0
    _, rows = read_samples(done.run_dir)
    assert any(r[3] == "" for r in rows)  # the dropouts are recorded as empty cells, never guessed
    # The relays and switches answer, but dead gauges cannot show the vent: no claim without them.
    assert not done.outcome.safe_state_confirmed
    assert (done.outcome.safe_state_reason or "").startswith("instrument fault: p_")
    done.safe_in_physics()


def test_a_brief_instrument_fault_is_ridden_through_and_counted(tmp_path: Path) -> None:
    bench = with_faults(tmp_path, "{instrument: gauges, kind: garbled, at: 12 min, duration: 10 s}")
    done = run(tmp_path, "pressure_decay", bench=bench)
    assert done.outcome.verdict is RunVerdict.PASS, done.outcome.reason
    assert done.outcome.faults["failed_reads"]["p_article"] >= 5
    messages = [e["message"] for e in done.events() if e["kind"] == "fault"]
    assert any("recorded as a dropout" in m for m in messages)
    assert any("reading again" in m for m in messages)


class _StopAt(NullObserver):
    """Presses Ctrl-C (``presses`` times) when the named step starts."""

    def __init__(self, runner: Runner, step: str, presses: int) -> None:
        self.runner, self.step, self.presses = runner, step, presses

    def step_started(self, progress: StepProgress) -> None:
        if progress.name == self.step:
            for _ in range(self.presses):
                self.runner.request_stop()


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_leaves_the_physics_safe(tmp_path: Path, presses: int) -> None:
    done = run(tmp_path, "pressure_decay", observer=lambda r: _StopAt(r, "decay", presses))
    assert done.outcome.verdict is RunVerdict.ABORTED
    cleanup_ran = any(e["kind"] == "step" and e["step"] == "set_valves" for e in done.events()[-6:])
    assert cleanup_ran == (presses == 1)
    if presses == 1:
        assert done.outcome.safe_state_confirmed
    else:
        # Stopped at once: the valves are commanded and their switches read, but the article's
        # vent is not waited for, so its pressure cannot be claimed to be the atmosphere's.
        assert not done.outcome.safe_state_confirmed
        assert "not waited for" in (done.outcome.safe_state_reason or "")
    done.safe_in_physics()
