"""Stuck-valve detection (rig.engine.valve_watch) and the bench graph it reads (rig.engine.topology).

The benches here are a chain of volumes a — b — c — d (d has no gauge) with a vent on a and a
supply on b, all on one DAQ (an analog gauge has no display digits, so the gauges' floor is
exactly what the channels declare). No physics: the tests hand the watch its readings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.bench import BenchSpec, load_bench
from rig.engine.topology import joined, segments
from rig.engine.valve_watch import MOVE_FLOORS, OPENED, VENT_WINDOW_RESPONSES, Expectation, ValveWatch
from rig.procedure.loader import ATMOSPHERE_PA

RESPONSE_S = 10.0
CHAIN = """\
bench: chain
instruments:
  daq: {{model: DAQ970A}}
  gauges: {{model: TPG362}}
volumes:
  a: {{size: 10 L}}
  b: {{size: 10 L}}
  c: {{size: 20 L}}
  d: {{size: 5 L}}
channels:
  # A thermocouple first: the watch must read a volume's pressure channel, not its first channel.
  t_a: {{instrument: daq, channel: 110, measures: temperature, volume: a}}
  p_a: {{instrument: daq, channel: 101, measures: pressure, volume: a, {gauge}}}
  p_b: {{instrument: daq, channel: 102, measures: pressure, volume: b, {gauge}}}
  p_c: {{instrument: daq, channel: 103, measures: pressure, volume: c, {gauge}}}
  p_digits: {{instrument: gauges, channel: 1, measures: pressure}}
valves:
  ab: {{instrument: daq, channel: 201, between: [a, b]}}
  bc: {{instrument: daq, channel: 202, between: [b, c]}}
  cd: {{instrument: daq, channel: 203, between: [c, d]}}
  vent: {{instrument: daq, channel: 204, between: [a, atmosphere]}}
  supply: {{instrument: daq, channel: 205, between: [supply, b]}}
  pump: {{instrument: daq, channel: 206, between: [c, pumpline]}}
limits: {{valve_response: 10 s}}
safe_state: {{ab: closed, bc: closed, cd: closed, vent: open, supply: closed, pump: closed}}
"""


def chain(
    tmp_path: Path, resolution: str = "1 Pa", noise: str = "1 Pa", accuracy: float = 0.001
) -> BenchSpec:
    path = tmp_path / "chain.yaml"
    gauge = f"resolution: {resolution}, noise: {noise}, accuracy: {accuracy}"
    path.write_text(CHAIN.format(gauge=gauge))
    return load_bench(path)


@pytest.fixture
def bench(tmp_path: Path) -> BenchSpec:
    return chain(tmp_path)


def readings(a: float, b: float, c: float = 100_000.0) -> dict[str, float | None]:
    return {"p_a": a, "p_b": b, "p_c": c, "t_a": 293.15}


def opened(watch: ValveWatch, valve: str) -> list[Expectation]:
    return [e for e in watch.pending if e.valves == (valve,) and e.what == OPENED]


# --- topology ------------------------------------------------------------------------------------


def test_joined_follows_open_valves_only(bench: BenchSpec) -> None:
    assert joined(bench, {}, "b") == {"b"}
    states = {"ab": True, "bc": True, "cd": False, "vent": False}
    assert joined(bench, states, "a") == {"a", "b", "c"}
    assert joined(bench, states, "c") == {"a", "b", "c"}
    assert joined(bench, states, "d") == {"d"}
    assert joined(bench, {**states, "vent": True}, "c") == {"a", "b", "c", "atmosphere"}
    # From the outside too, and a place no valve touches is alone.
    assert joined(bench, {"vent": True, "ab": True}, "atmosphere") == {"atmosphere", "a", "b"}
    assert joined(bench, states, "nowhere") == {"nowhere"}


def test_segments_group_volumes_in_bench_order(bench: BenchSpec) -> None:
    assert segments(bench, {}) == [("a",), ("b",), ("c",), ("d",)]
    assert segments(bench, {"bc": True, "ab": False}) == [("a",), ("b", "c"), ("d",)]
    assert segments(bench, {"cd": True, "ab": True}) == [("a", "b"), ("c", "d")]
    # A group open to the atmosphere (or a pump) is still a group of bench volumes only.
    assert segments(bench, {"vent": True, "ab": True, "pump": True}) == [("a", "b"), ("c",), ("d",)]
    assert segments(bench, {name: True for name in bench.valves}) == [("a", "b", "c", "d")]


# --- a valve between two volumes -----------------------------------------------------------------


def test_opening_expects_both_sides_to_head_for_the_shared_pressure(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    by_channel = {e.weights: e for e in opened(watch, "ab")}
    assert set(by_channel) == {(("p_a", 1.0),), (("p_b", 1.0),)}
    high, low = by_channel[(("p_a", 1.0),)], by_channel[(("p_b", 1.0),)]
    # Equal volumes meet halfway; the move asked is the larger of 5 floors and 0.1 % of the gap.
    assert high.start_pa == 200_000.0 and high.toward_pa == pytest.approx(150_000.0)
    assert low.start_pa == 100_000.0 and low.toward_pa == pytest.approx(150_000.0)
    assert high.move_pa == pytest.approx(50.0) and low.move_pa == pytest.approx(50.0)
    assert high.commanded_s == 0.0 and high.deadline_s == RESPONSE_S == bench.valve_response_s


def test_volumes_weight_the_shared_pressure(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"bc": True}, 0.0, readings(100_000.0, 100_000.0, c=400_000.0))
    for e in opened(watch, "bc"):
        assert e.toward_pa == pytest.approx((100_000.0 * 10 + 400_000.0 * 20) / 30)


def test_a_response_meets_the_expectation(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    # Not yet: the valve's delay, nothing moved; still owed, not overdue.
    assert watch.check(1.0, readings(200_000.0, 100_000.0)) is None
    assert len(watch.pending) == 2
    # One side moved by the move asked, the other not yet.
    assert watch.check(2.0, readings(199_950.0, 100_010.0)) is None
    assert [e.weights for e in watch.pending] == [(("p_b", 1.0),)]
    assert watch.check(3.0, readings(190_000.0, 110_000.0)) is None
    assert watch.pending == []
    # Nothing owed: nothing can be overdue.
    assert watch.check(100.0, readings(0.0, 0.0)) is None


def test_moving_away_from_the_target_is_no_response(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    assert watch.check(5.0, readings(201_000.0, 99_000.0)) is None
    assert len(watch.pending) == 2


def test_an_overdue_response_is_a_stuck_valve(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    # At the deadline the valve is still within its time; just after it, it is stuck.
    assert watch.check(RESPONSE_S, readings(200_000.0, 100_000.0)) is None
    reason = watch.check(RESPONSE_S + 0.5, readings(200_010.0, 100_000.0))
    assert reason is not None
    assert reason.startswith("stuck valve: ab opened at t = 0.0 s, but p_a (200000 Pa) did not move 50 Pa")
    assert "toward 150000 Pa within 10 s (moved +10 Pa)" in reason
    assert watch.pending == []  # reported once


def test_a_gauge_without_a_reading_cannot_meet_it(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    values: dict[str, float | None] = {"p_a": None, "p_b": float("nan")}
    assert watch.check(5.0, values) is None and len(watch.pending) == 2
    reason = watch.check(11.0, values)
    assert reason is not None and reason.endswith("(no reading)")


def test_closing_the_valve_drops_what_it_owed(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True, "bc": True}, 0.0, readings(200_000.0, 100_000.0, c=300_000.0))
    assert {e.valves for e in watch.pending} == {("ab",), ("bc",)}
    watch.commanded({"ab": False}, 1.0, readings(200_000.0, 100_000.0, c=300_000.0))
    assert {e.valves for e in watch.pending} == {("bc",)}
    assert watch.states == {"ab": False, "bc": True}
    watch.commanded({"bc": False}, 2.0, readings(200_000.0, 100_000.0, c=300_000.0))
    assert watch.pending == []
    assert watch.check(60.0, readings(200_000.0, 100_000.0, c=300_000.0)) is None


def test_a_valve_already_open_is_not_judged_again(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {"ab": True})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0))
    assert watch.pending == []


# --- the atmosphere ------------------------------------------------------------------------------


def test_a_vent_expects_its_volume_to_head_for_the_atmosphere(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True}, 0.0, readings(200_000.0, 100_000.0))
    (e,) = watch.pending
    assert e.valves == ("vent",) and e.weights == (("p_a", 1.0),)
    assert e.start_pa == 200_000.0 and e.toward_pa == ATMOSPHERE_PA
    assert watch.check(4.0, readings(195_000.0, 100_000.0)) is None and watch.pending == []


def test_a_stuck_vent_is_found(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True}, 3.0, readings(200_000.0, 100_000.0))
    reason = watch.check(13.5, readings(200_000.0, 100_000.0))
    assert reason is not None and reason.startswith("stuck valve: vent opened at t = 3.0 s")


def test_a_vent_on_a_volume_near_the_atmosphere_expects_nothing(bench: BenchSpec) -> None:
    # Within how far the bench's atmosphere may be off (2 kPa unless it says), a difference
    # says nothing; beyond it and the gauge's 0.1 %, the vent must show.
    assert bench.atmosphere_uncertainty_pa == 2000.0
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True}, 0.0, readings(ATMOSPHERE_PA + 1500.0, 100_000.0))
    assert watch.pending == []
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True}, 0.0, readings(ATMOSPHERE_PA * 1.04, 100_000.0))
    assert [e.valves for e in watch.pending] == [("vent",)]


def test_opening_onto_a_vented_volume_expects_the_atmosphere(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {"vent": True})
    watch.commanded({"ab": True}, 0.0, readings(ATMOSPHERE_PA, 200_000.0))
    (e,) = watch.pending
    assert e.valves == ("ab",) and e.weights == (("p_b", 1.0),)
    assert e.toward_pa == ATMOSPHERE_PA


def test_opening_onto_a_volume_only_just_vented_is_not_judged(bench: BenchSpec) -> None:
    # a's vent opened a moment ago: a is still at 1.5 bar and heading down, so what b should
    # head for is nobody's to say.
    watch = ValveWatch(bench, {"vent": True})
    watch.commanded({"ab": True}, 0.0, readings(150_000.0, 200_000.0))
    assert watch.pending == []


def test_valves_opened_together_are_judged_on_the_group_mean(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True, "ab": True}, 0.0, readings(200_000.0, 100_000.0))
    # ab's sides are the vented a (unbounded) and b, open to a place not yet at the atmosphere:
    # neither can be judged. The vent is judged on the mean of a and b together.
    (e,) = watch.pending
    assert e.valves == ("vent",)
    assert [c for c, _ in e.weights] == ["p_a", "p_b"]
    assert [w for _, w in e.weights] == pytest.approx([0.5, 0.5])
    assert e.start_pa == pytest.approx(150_000.0) and e.toward_pa == ATMOSPHERE_PA
    assert e.mean(readings(120_000.0, 110_000.0)) == pytest.approx(115_000.0)


def test_gas_moved_inside_the_group_is_not_the_vent_s_response(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True, "ab": True}, 0.0, readings(200_000.0, 100_000.0))
    # The vent is stuck, ab works: a falls by 50 kPa (which alone would pass for a vent), but
    # only because b took the gas. The mean has not moved.
    assert watch.check(5.0, readings(150_000.0, 150_000.0)) is None
    assert len(watch.pending) == 1
    reason = watch.check(10.5, readings(150_000.0, 150_000.0))
    assert reason is not None
    assert reason.startswith("stuck valve: vent opened at t = 0.0 s, but p_a + p_b (150000 Pa)")


def test_the_group_venting_meets_the_vent_s_expectation(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"vent": True, "ab": True}, 0.0, readings(200_000.0, 100_000.0))
    assert watch.check(5.0, readings(130_000.0, 125_000.0)) is None
    assert watch.pending == []


# --- re-grouping ---------------------------------------------------------------------------------


def test_a_later_command_re_judges_a_valve_still_owing(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    before = readings(200_000.0, 100_000.0, c=300_000.0)
    watch.commanded({"ab": True}, 0.0, before)
    # ab has not shown yet when bc opens: gas from c would raise b as if ab had opened, so ab is
    # judged again on the new groups: a against b + c, and b + c against a.
    watch.commanded({"bc": True}, 2.0, before)
    by_weights = {tuple(c for c, _ in e.weights): e for e in opened(watch, "ab")}
    assert set(by_weights) == {("p_a",), ("p_b", "p_c")}
    a_side = by_weights[("p_a",)]
    assert a_side.commanded_s == 2.0 and a_side.deadline_s == 2.0 + RESPONSE_S
    assert a_side.toward_pa == pytest.approx(225_000.0)  # (2·10 + 1·10 + 3·20) bar·L / 40 L
    assert by_weights[("p_b", "p_c")].start_pa == pytest.approx((100_000.0 * 10 + 300_000.0 * 20) / 30)
    # bc opens, ab does not: b and c share their gas (b rises by 133 kPa), a stays.
    after = readings(200_000.0, 233_333.0, c=233_334.0)
    assert watch.check(5.0, after) is None
    assert {e.valves for e in watch.pending} == {("ab",)}
    reason = watch.check(12.5, after)
    assert reason is not None and reason.startswith("stuck valve: ab opened at t = 2.0 s, but p_a")


def test_without_re_grouping_the_old_expectation_would_have_passed(bench: BenchSpec) -> None:
    # The counterfactual the re-judging guards against: ab's first expectation on b alone is met
    # by the gas bc let in.
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(200_000.0, 100_000.0, c=300_000.0))
    b_side = next(e for e in watch.pending if e.weights == (("p_b", 1.0),))
    assert b_side.met_by(readings(200_000.0, 233_333.0, c=233_334.0))


def test_re_grouping_does_not_multiply_expectations(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    before = readings(200_000.0, 100_000.0, c=300_000.0)
    watch.commanded({"ab": True}, 0.0, before)
    assert len(opened(watch, "ab")) == 2
    watch.commanded({"bc": True}, 1.0, before)
    # Today: 4 (two identical copies of each side), and 8 after one more re-grouping.
    assert len(opened(watch, "ab")) == 2


# --- what cannot be judged -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accuracy", "expected"),
    [
        (0.01, 0),  # the gauges may disagree by 1 % of each reading (2 kPa): 1.5 kPa proves nothing
        (0.001, 2),  # 0.1 %: 200 Pa of 1.5 kPa is doubt, the rest is surely real
    ],
)
def test_a_difference_within_the_gauges_accuracies_expects_nothing(
    tmp_path: Path, accuracy: float, expected: int
) -> None:
    watch = ValveWatch(chain(tmp_path, accuracy=accuracy), {})
    watch.commanded({"ab": True}, 0.0, readings(100_000.0, 101_500.0))
    assert len(watch.pending) == expected


@pytest.mark.parametrize(
    ("resolution", "noise", "expected"),
    [
        ("1 Pa", "1 Pa", 2),
        ("50 Pa", "1 Pa", 0),  # moves of 250 Pa asked, with a margin of 4: 1 kPa is too little
        ("1 Pa", "50 Pa", 0),  # the same for noise
    ],
)
def test_a_difference_within_the_gauges_floor_expects_nothing(
    tmp_path: Path, resolution: str, noise: str, expected: int
) -> None:
    bench = chain(tmp_path, resolution=resolution, noise=noise, accuracy=0.0001)
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, readings(100_000.0, 101_000.0))
    assert len(watch.pending) == expected


def test_the_move_asked_is_floors_or_a_share_of_the_gap(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    assert watch.move_needed(["p_a"], 100_000.0, 101_000.0) == pytest.approx(MOVE_FLOORS * 1.0)
    assert watch.move_needed(["p_a"], 100_000.0, 200_000.0) == pytest.approx(100.0)  # 0.1 % of 100 kPa
    assert watch.move_needed(["p_a"], 100_000.0, 100_019.0) is None  # below 4 × 5 Pa
    assert watch.move_needed(["p_a"], 100_000.0, 101_000.0, unsure_pa=990.0) is None
    # A controller's last printed digit is a floor too: 5 digits above 1 bar are 10 Pa steps.
    assert watch.move_needed(["p_digits"], 100_000.0, 120_000.0) == pytest.approx(MOVE_FLOORS * 10.0)
    assert watch.move_needed(["p_digits"], 10_000.0, 12_000.0) == pytest.approx(MOVE_FLOORS * 1.0)


def test_an_ungauged_volume_is_not_judged(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"cd": True}, 0.0, readings(100_000.0, 100_000.0, c=300_000.0))
    assert watch.pending == []


def test_a_gauge_without_a_reading_is_not_judged(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.commanded({"ab": True}, 0.0, {"p_a": 200_000.0, "p_b": None})
    assert watch.pending == []


@pytest.mark.parametrize("valve", ["supply", "pump"])
def test_a_supply_or_a_pump_on_the_far_side_is_unknown(bench: BenchSpec, valve: str) -> None:
    # Whatever b or c reads, the supply's or the pump line's pressure is not on the bench.
    watch = ValveWatch(bench, {})
    watch.commanded({valve: True}, 0.0, readings(100_000.0, 300_000.0, c=300_000.0))
    assert watch.pending == []


def test_a_side_open_to_a_supply_is_not_judged(bench: BenchSpec) -> None:
    # b is open to the supply: the pressure b + supply heads for is unknown, and a's target too.
    watch = ValveWatch(bench, {"supply": True})
    watch.commanded({"ab": True}, 0.0, readings(100_000.0, 200_000.0))
    assert watch.pending == []


# --- a fill or a pump-down -----------------------------------------------------------------------


def test_a_fill_expects_its_gauge_to_head_for_the_target(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.expect("p_b", ("supply",), 100_000.0, 200_000.0, 4.0, "opened to fill")
    (e,) = watch.pending
    assert e.weights == (("p_b", 1.0),) and e.valves == ("supply",)
    assert e.move_pa == pytest.approx(100.0) and e.deadline_s == 4.0 + RESPONSE_S
    assert watch.check(6.0, readings(100_000.0, 100_150.0)) is None
    assert watch.pending == []


def test_a_fill_that_does_not_move_is_a_stuck_valve(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.expect("p_b", ("supply",), 100_000.0, 200_000.0, 4.0, "opened to fill")
    reason = watch.check(14.5, readings(100_000.0, 100_050.0))
    assert reason is not None
    assert reason.startswith("stuck valve: supply opened to fill at t = 4.0 s, but p_b (100000 Pa)")


def test_a_fill_without_a_named_valve_blames_the_open_path(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.expect("p_c", (), 100_000.0, 1.0, 0.0, "pumped down")
    reason = watch.check(11.0, readings(100_000.0, 100_000.0))
    assert reason is not None and reason.startswith("stuck valve: the open path pumped down at t = 0.0 s")


def test_a_fill_already_at_its_target_expects_nothing(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.expect("p_b", ("supply",), 199_990.0, 200_000.0, 0.0, "opened to fill")
    assert watch.pending == []


def test_a_fill_survives_a_re_grouping_and_ends_with_its_valve(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {})
    watch.expect("p_b", ("supply",), 100_000.0, 200_000.0, 0.0, "opened to fill")
    watch.commanded({"ab": True}, 1.0, readings(100_000.0, 100_000.0))  # no difference: nothing new
    assert [e.what for e in watch.pending] == ["opened to fill"]
    watch.commanded({"supply": False}, 2.0, readings(100_000.0, 100_000.0))
    assert watch.pending == []


# --- the safe state's vent -----------------------------------------------------------------------

WINDOW_S = VENT_WINDOW_RESPONSES * RESPONSE_S


def test_the_volumes_open_to_the_atmosphere_are_vented(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {"vent": True, "ab": True})
    vent = watch.venting(100.0, 1.0)
    assert vent is not None and sorted(vent.floors) == ["p_a", "p_b"]
    assert vent.deadline_s == 100.0 + bench.vent_time_s == 100.0 + 600.0
    assert vent.window_s == WINDOW_S
    assert not vent.vented(readings(20_000.0, 20_000.0))
    # Within the gauges' accuracy (0.1 %), noise and steps and the atmosphere's 2 kPa, not beyond.
    assert vent.tolerances == {
        c: pytest.approx(0.001 * ATMOSPHERE_PA + 4.0 + 1.0 + 2000.0) for c in ["p_a", "p_b"]
    }
    assert vent.vented(readings(ATMOSPHERE_PA - 2000.0, ATMOSPHERE_PA + 2050.0, 5.0))  # c is not vented
    assert not vent.vented(readings(ATMOSPHERE_PA * 0.97, ATMOSPHERE_PA, 5.0))
    assert not vent.vented(readings(ATMOSPHERE_PA, None))  # b cannot show it


def test_a_vent_getting_closer_goes_on_and_one_that_stalls_is_found(bench: BenchSpec) -> None:
    moving = ValveWatch(bench, {"vent": True}).venting(0.0, 1.0)
    stalled = ValveWatch(bench, {"vent": True}).venting(0.0, 1.0)
    assert moving is not None and stalled is not None
    for t in range(0, 200):
        closer = 20_000.0 + 300.0 * t  # 300 Pa/s: still 20 kPa short at the end
        assert moving.check(float(t), readings(closer, 0.0)) is None
        held = 20_000.0 + 300.0 * min(t, 50)  # stops at 35 kPa
        why = stalled.check(float(t), readings(held, 0.0))
        if why is not None:
            break
    assert why is not None and why.startswith("p_a stalled at 35000 Pa, short of the atmosphere")
    assert t == 50 + WINDOW_S  # found one window after it stopped getting closer


def test_a_vent_still_short_at_the_vent_time_is_a_failure(bench: BenchSpec) -> None:
    vent = ValveWatch(bench, {"vent": True}).venting(0.0, 1.0)
    assert vent is not None
    assert vent.check(600.0, readings(60_000.0 + 0.0, 0.0)) is None
    assert vent.check(601.0, readings(61_000.0, 0.0)) == (
        "p_a at 61000 Pa has not reached the atmosphere by the bench's vent_time"
    )


def test_nothing_is_vented_when_the_atmosphere_path_also_opens_to_a_pump(bench: BenchSpec) -> None:
    watch = ValveWatch(bench, {"vent": True, "ab": True, "bc": True, "pump": True})
    assert watch.venting(0.0, 1.0) is None
    assert ValveWatch(bench, {"ab": True}).venting(0.0, 1.0) is None  # nothing open to the atmosphere


def test_a_gauge_that_reads_nothing_cannot_show_a_vent(bench: BenchSpec) -> None:
    # A dropout now and then is ridden through; a gauge silent for a whole window cannot show
    # the vent, and the vent is never taken as done on its silence.
    vent = ValveWatch(bench, {"vent": True}).venting(0.0, 1.0)
    assert vent is not None
    for t in range(0, 60):
        assert vent.check(float(t), {"p_a": None}) is None
    assert vent.check(60.0, {"p_a": None}) == "p_a has had no reading for 60 s: the vent cannot be shown"
    assert not vent.vented({"p_a": None})
