"""The station's live parts on their own: the hub's numbered ring, the feed's batching, the prompt broker."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.engine.observer import StepProgress
from rig.station.access import Access, is_loopback
from rig.station.feed import RunFeed, json_safe
from rig.station.hub import Hub
from rig.station.prompts import PromptBroker
from rig.steps.context import Answer
from rig.testing.conformance import wait_until


class FakeWall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(size=st.integers(1, 20), posts=st.integers(0, 60), since=st.integers(0, 70))
@settings(max_examples=200, deadline=None)
def test_the_hub_gives_every_message_after_a_number_or_says_it_cannot(
    size: int, posts: int, since: int
) -> None:
    hub = Hub(size)
    for i in range(posts):
        assert hub.post({"i": i}) == i + 1
    got = hub.since(since)
    if since >= posts:
        assert got == []
    elif since + 1 < max(1, posts - size + 1):  # some of what follows `since` fell out of the ring
        assert got is None
    else:
        assert got is not None
        assert [m["seq"] for m in got] == list(range(since + 1, posts + 1))
        assert [m["i"] for m in got] == list(range(since, posts))


def test_a_waiting_page_wakes_when_a_message_is_posted_from_another_thread() -> None:
    hub = Hub()

    async def wait() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        threading.Timer(0.05, lambda: hub.post({"type": "x"})).start()
        await hub.wait(0, timeout_s=10.0)
        return loop.time() - start

    assert asyncio.run(wait()) < 5.0
    assert hub.last_seq == 1
    # Nothing new: the wait ends at its timeout.
    assert asyncio.run(asyncio.wait_for(hub.wait(1, timeout_s=0.01), 5.0)) is None


def test_json_safe_makes_strict_json_of_what_a_run_sends() -> None:
    import numpy as np

    value = {"a": math.nan, "b": [math.inf, 1.5, np.float64(2.0), np.int64(3)], 4: object, "c": (True, None)}
    safe = json_safe(value)
    assert json.loads(json.dumps(safe, allow_nan=False)) == {
        "a": None,
        "b": [None, 1.5, 2.0, 3.0],
        "4": str(object),
        "c": [True, None],
    }


def _feed(hub: Hub, wall: FakeWall, limits: dict[str, float | None] | None = None) -> RunFeed:
    feed = RunFeed(hub, {"procedure": "p"}, limits or {}, flush_s=0.2, wall=wall)
    feed.begin("run-1")
    return feed


def test_samples_go_out_in_batches_and_before_anything_that_follows_them() -> None:
    hub, wall = Hub(), FakeWall()
    feed = _feed(hub, wall)
    for t in range(5):
        feed.sampled(float(t), {"p": 100.0 + t})
    assert [m["type"] for m in hub.since(0) or []] == ["run"]  # no batch due yet
    feed.event(5.0, "fault", "a fault")
    messages = hub.since(1) or []
    assert [m["type"] for m in messages] == ["samples", "event"]
    assert messages[0]["t"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert messages[0]["values"] == {"p": [100.0, 101.0, 102.0, 103.0, 104.0]}
    wall.now = 1.0
    feed.sampled(6.0, {"p": None, "q": 2.0})  # a dropout, and a channel first seen now
    last = (hub.since(3) or [])[-1]
    assert last["type"] == "samples" and last["values"] == {"p": [None], "q": [2.0]}


def test_a_channel_missing_from_a_sample_is_a_gap_not_a_shift() -> None:
    hub, wall = Hub(), FakeWall()
    feed = _feed(hub, wall)
    feed.sampled(0.0, {"p": 1.0, "q": 5.0})
    feed.sampled(1.0, {"p": 2.0})
    feed.sampled(2.0, {"q": 7.0})
    feed.flush()
    batch = (hub.since(1) or [])[0]
    assert batch["values"] == {"p": [1.0, 2.0, None], "q": [5.0, None, 7.0]}


def test_the_live_estimate_carries_its_interval_against_the_limit() -> None:
    hub, wall = Hub(), FakeWall()
    feed = _feed(hub, wall, {"decay": 1.0e-3})
    feed.leak_rate("decay", 5.0e-4, 1.0e-5, 100)
    feed.leak_rate("decay", 2.0e-4, 1.0e-5, 101)  # only the latest goes out
    feed.flush()
    estimates = [m for m in hub.since(0) or [] if m["type"] == "estimate"]
    assert len(estimates) == 1
    estimate = estimates[0]
    low, high = estimate["ci95_pa_m3_s"]
    assert low < 2.0e-4 < high and high - low == pytest.approx(2 * 1.984 * 1.0e-5, rel=1e-3)
    assert estimate["against_limit"] == "below"
    feed.leak_rate("decay", 1.0e-3, 1.0e-4, 101)
    feed.flush()
    assert feed.estimates["decay"]["against_limit"] == "straddles"
    feed.leak_rate("decay", math.nan, math.nan, 2)  # odd values: no interval, still strict JSON
    feed.flush()
    json.dumps(feed.state(), allow_nan=False)
    assert feed.estimates["decay"]["ci95_pa_m3_s"] is None


def test_a_page_opened_mid_run_gets_the_state_as_of_now() -> None:
    hub, wall = Hub(), FakeWall()
    feed = _feed(hub, wall)
    feed.step_started(StepProgress("fill", "fill", 2, 5, started_s=3.0, max_s=60.0))
    feed.event(4.0, "range", "over range", channel="p")
    feed.prompt_opened(1, "Repair the seal")
    state = feed.state()
    assert state["run"]["run_id"] == "run-1"
    assert state["step"]["name"] == "fill" and state["step"]["max_s"] == 60.0
    assert state["events"][0]["data"] == {"channel": "p"}
    assert state["prompt"]["message"] == "Repair the seal"
    feed.prompt_closed(1, {"answer": "yes"})
    assert feed.state()["prompt"] is None


def test_a_broken_hub_never_reaches_the_runner() -> None:
    class Broken(Hub):
        def post(self, message: dict[str, Any]) -> int:
            raise OSError("no")

    feed = RunFeed(Broken(), {}, {})
    feed.begin("x")
    feed.event(0.0, "k", "m")
    feed.step_started(StepProgress("s", "wait", 1, 1, started_s=0.0))


def _ask_in_thread(broker: PromptBroker, message: str) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def ask() -> None:
        try:
            out.append(broker(message))
        except KeyboardInterrupt:
            out.append("interrupted")

    thread = threading.Thread(target=ask)
    thread.start()
    return thread, out


def test_the_first_answer_counts_and_says_who_and_where() -> None:
    broker = PromptBroker("station operator")
    thread, out = _ask_in_thread(broker, "Repair the seal")
    wait_until(lambda: broker.pending is not None)
    prompt_id = broker.pending[0] if broker.pending else 0
    assert not broker.answer(prompt_id + 1, True, "x", "y")  # not the prompt waiting
    assert broker.answer(prompt_id, True, "A. Tester", "station (client 127.0.0.1)")
    assert not broker.answer(prompt_id, False, "B", "terminal")  # too late: answered
    thread.join(10)
    answer = out[0]
    assert isinstance(answer, Answer) and answer.yes and answer.by == "A. Tester"
    assert answer.record()["origin"] == "station (client 127.0.0.1)"
    assert broker.pending is None


def test_a_line_at_the_terminal_answers_as_the_stations_operator() -> None:
    broker = PromptBroker("Op")
    thread, out = _ask_in_thread(broker, "Go?")
    wait_until(lambda: broker.pending is not None)
    broker.terminal_line("maybe\n")  # not an answer: asked again
    assert broker.pending is not None
    broker.terminal_line(" No \n")
    thread.join(10)
    assert out[0].yes is False and out[0].by == "Op" and out[0].origin == "terminal"


def test_a_stop_interrupts_the_wait_before_or_during_it() -> None:
    broker = PromptBroker("Op")
    thread, out = _ask_in_thread(broker, "Go?")
    wait_until(lambda: broker.pending is not None)
    broker.interrupt()
    thread.join(10)
    assert out == ["interrupted"]
    broker.interrupt()  # a stop just before the prompt opens
    thread, out = _ask_in_thread(broker, "Go?")
    thread.join(10)
    assert out == ["interrupted"]
    broker.reset()
    thread, out = _ask_in_thread(broker, "Go?")
    wait_until(lambda: broker.pending is not None)
    assert broker.answer(broker.pending[0] if broker.pending else 0, True, "Op", "terminal")
    thread.join(10)
    assert out[0].yes


def test_reads_are_open_on_loopback_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("bench.lab")

    class Conn:
        def __init__(self, headers: dict[str, str], query: dict[str, str]) -> None:
            self.headers, self.query_params = headers, query

    closed = Access("secret", open_reads=False)
    assert not closed.may_view(Conn({}, {}))  # type: ignore[arg-type]
    assert closed.may_view(Conn({}, {"token": "secret"}))  # type: ignore[arg-type]
    assert closed.may_view(Conn({"authorization": "Bearer secret"}, {}))  # type: ignore[arg-type]
    assert not closed.is_operator(Conn({}, {"token": "secret"}))  # type: ignore[arg-type]
    assert not closed.is_operator(Conn({"authorization": "Bearer secre"}, {}))  # type: ignore[arg-type]
    assert not closed.is_operator(Conn({"authorization": "Basic secret"}, {}))  # type: ignore[arg-type]


def test_a_long_records_trace_is_thinned_for_a_page_with_its_last_sample_kept(tmp_path: Path) -> None:
    from rig.station.app import trace_from

    lines = ["time,step,p,t"]
    lines += [f"{i}.0,hold,{100000 - i},{293.0 if i % 7 else ''}" for i in range(12_001)]
    lines.append("oops,hold,1,2")  # a damaged row is skipped, not a failure
    lines.append("12002.0,hold,5")  # a short row: the missing channel is a gap
    lines.append("12003.0,hold,7,29")  # cut short by a crash (no newline): not read
    (tmp_path / "samples.csv").write_text("\n".join(lines))
    trace = trace_from(tmp_path, points=5000)
    assert len(trace["t"]) <= 5002
    assert trace["t"][0] == 0.0 and trace["t"][-1] == 12002.0
    assert trace["t"] == sorted(trace["t"])
    assert trace["values"]["t"][-1] is None and trace["values"]["p"][-1] == 5.0
    assert trace["values"]["t"][0] is None  # i = 0: an empty cell
    full = trace_from(tmp_path, points=100_000)
    assert len(full["t"]) == 12_002
