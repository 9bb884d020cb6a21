"""``rig station`` from outside, over HTTP on loopback, as a careless or hostile client uses it.

A real station (a subprocess, simulated bench) serves every test of the module; each test leaves
no run going. The record is the judge: what the page asked for is in the run's events, with its
origin, and every stopped run ends in its confirmed safe state.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rig.testing.conformance import wait_until
from tests.station.station_process import ROOT, StationProcess

pytestmark = pytest.mark.integration

RUN_TIMEOUT_S = 60.0
# A prompt and a minute's wait: the tests of answers and stops at a prompt need no more.
PROMPT_ONLY = str(Path(__file__).with_name("prompt_only.yaml"))


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StationProcess]:
    with StationProcess(tmp_path_factory.mktemp("station") / "data") as running:
        yield running


@pytest.fixture
def operator(station: StationProcess) -> Iterator[httpx.Client]:
    with station.client(operator=True) as client:
        yield client
        # No test leaves a run going for the next one.
        if client.get("/api/live").json().get("active"):
            client.post(f"/api/runs/{client.get('/api/live').json()['run']['run_id']}/stop")
            client.post(f"/api/runs/{client.get('/api/live').json()['run']['run_id']}/stop")
        wait_until(lambda: not client.get("/api/live").json().get("active"), RUN_TIMEOUT_S)


@pytest.fixture
def viewer(station: StationProcess) -> Iterator[httpx.Client]:
    with station.client(operator=False) as client:
        yield client


def _run_ids(station: StationProcess) -> set[str]:
    runs = station.data_dir / "runs"
    return {p.name for p in runs.iterdir()} if runs.is_dir() else set()


def _finished(client: httpx.Client, run_id: str) -> dict[str, Any]:
    def done() -> bool:
        live = client.get("/api/live").json()
        return bool(live.get("finished")) and live["finished"]["run_id"] == run_id and not live["active"]

    wait_until(done, RUN_TIMEOUT_S)
    finished: dict[str, Any] = client.get("/api/live").json()["finished"]
    return finished


def _events(station: StationProcess, run_id: str) -> list[dict[str, Any]]:
    text = (station.data_dir / "runs" / run_id / "events.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def _start(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/api/runs", json=body)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def _waiting_prompt(client: httpx.Client) -> dict[str, Any]:
    wait_until(lambda: client.get("/api/live").json().get("prompt") is not None, RUN_TIMEOUT_S)
    prompt: dict[str, Any] = client.get("/api/live").json()["prompt"]
    return prompt


def test_without_the_token_nothing_moves(station: StationProcess, viewer: httpx.Client) -> None:
    before = _run_ids(station)
    body = {"procedure": "pressure_decay.yaml", "seed": 1}
    attempts = [
        viewer.post("/api/runs", json=body),
        viewer.post("/api/runs", json=body, headers={"Authorization": "Bearer wrong"}),
        viewer.post("/api/runs", json=body, headers={"Authorization": f"Basic {station.token}"}),
        viewer.post(f"/api/runs?token={station.token}", json=body),  # a query is for reads only
        viewer.post("/api/runs/x/stop"),
        viewer.post("/api/prompts/1", json={"answer": "yes"}),
    ]
    for response in attempts:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["error"]
    assert _run_ids(station) == before
    assert viewer.get("/api/live").json().get("active") is False
    # Reading is open on loopback, to pages addressed to loopback only (no DNS rebinding).
    assert viewer.get("/api/runs").status_code == 200
    assert viewer.get("/api/runs", headers={"Host": "attacker.example:80"}).status_code == 400
    assert viewer.get("/api/runs", headers={"Host": "localhost"}).status_code == 200
    assert viewer.get("/api/station").json()["operator_rights"] is False


@pytest.mark.parametrize(
    ("content", "status", "says"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"{}", 400, "give the procedure"),
        (b'{"procedure": 3}', 400, "give the procedure"),
        (b'{"procedure": "pressure_decay.yaml", "seed": "3"}', 400, "seed must be a whole number"),
        (b'{"procedure": "pressure_decay.yaml", "seed": true}', 400, "seed must be a whole number"),
        (b'{"procedure": "pressure_decay.yaml", "seed": -1}', 400, "--seed must be"),
        (b'{"procedure": "pressure_decay.yaml", "seed": 1e400}', 400, "seed must be a whole number"),
        (b'{"procedure": "pressure_decay.yaml", "speed": 0}', 400, "--speed must be"),
        (b'{"procedure": "pressure_decay.yaml", "speed": 1e9}', 400, "--speed must be"),
        (b'{"procedure": "pressure_decay.yaml", "sim": false}', 400, "simulations only"),
        (b'{"procedure": "pressure_decay.yaml", "part": 5}', 400, "part must be text"),
        (b'{"procedure": "nope.yaml"}', 404, "no procedure"),
        (b'{"procedure": "../../../etc/passwd"}', 400, "not a procedure file"),
        (b'{"procedure": "/etc/passwd"}', 400, "not a procedure file"),
        (b'{"procedure": "../../../../../../../tmp/x.yaml"}', 404, "no procedure"),
        (b'{"procedure": "benches/../../README.yaml"}', 404, "no procedure"),
        (b'{"procedure": "flow_leak_test.yaml"}', 400, "flow_leak_test.yaml:"),
        (b'{"procedure": ""}', 400, "give the procedure"),
        (b'{"procedure": "a\\u0000b.yaml"}', 400, "give the procedure"),
        (b'{"procedure": "' + b"x" * 70000 + b'"}', 413, "request body over"),
    ],
    ids=lambda v: v if isinstance(v, int) else None,
)
def test_a_bad_start_is_one_line_and_starts_nothing(
    station: StationProcess, operator: httpx.Client, content: bytes, status: int, says: str
) -> None:
    before = _run_ids(station)
    response = operator.post("/api/runs", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in error and "\n" not in error and "Traceback" not in error
    assert _run_ids(station) == before
    assert operator.get("/api/live").json()["active"] is False


def test_a_run_started_over_the_api_is_listed_as_rig_runs_lists_it(
    station: StationProcess, operator: httpx.Client
) -> None:
    run_id = _start(operator, {"procedure": "pressure_decay.yaml", "seed": 1})
    assert _finished(operator, run_id)["verdict"] == "PASS"
    listed = {r["run_id"]: r for r in operator.get("/api/runs").json()}
    cli = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "--json", "--data-dir", str(station.data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert listed == {r["run_id"]: r for r in json.loads(cli.stdout)}
    assert listed[run_id]["verdict"] == "PASS" and listed[run_id]["status"] == "passed"
    started = [e for e in _events(station, run_id) if e["kind"] == "operator"]
    assert started[0]["message"] == "run started from station (client 127.0.0.1)"


def test_one_run_at_a_time_and_a_stop_at_the_prompt_ends_in_the_safe_state(
    station: StationProcess, operator: httpx.Client
) -> None:
    run_id = _start(operator, {"procedure": PROMPT_ONLY, "seed": 2})
    _waiting_prompt(operator)
    second = operator.post("/api/runs", json={"procedure": "pressure_decay.yaml"})
    assert second.status_code == 409 and "a run is going on" in second.json()["error"]
    assert operator.post("/api/runs/not-this-one/stop").status_code == 409
    stopped = operator.post(f"/api/runs/{run_id}/stop")
    assert stopped.json() == {"run_id": run_id, "stops": 1, "immediate": False}
    finished = _finished(operator, run_id)
    assert finished["verdict"] == "ABORTED"
    assert finished["reason"] == "stopped by the operator (stop from station (client 127.0.0.1))"
    kinds = [(e["kind"], e["message"]) for e in _events(station, run_id)]
    assert ("safe_state", "safe state confirmed") in kinds
    assert operator.get("/api/live").json()["prompt"] is None


def test_no_at_the_prompt_aborts_and_the_answer_is_recorded_with_its_origin(
    station: StationProcess, operator: httpx.Client
) -> None:
    run_id = _start(operator, {"procedure": PROMPT_ONLY, "seed": 4})
    prompt = _waiting_prompt(operator)
    assert operator.post(f"/api/prompts/{prompt['id']}", json={"answer": "maybe"}).status_code == 400
    assert operator.post(f"/api/prompts/{prompt['id'] + 1}", json={"answer": "yes"}).status_code == 409
    answered = operator.post(f"/api/prompts/{prompt['id']}", json={"answer": "no", "operator": "B. Careful"})
    assert answered.status_code == 200, answered.text
    again = operator.post(f"/api/prompts/{prompt['id']}", json={"answer": "yes"})
    assert again.status_code == 409  # the first answer counts
    finished = _finished(operator, run_id)
    assert finished["verdict"] == "ABORTED" and "operator answered no" in finished["reason"]
    prompt_event = next(e for e in _events(station, run_id) if e["kind"] == "prompt")
    assert prompt_event["answer"] == "no" and prompt_event["answered_by"] == "B. Careful"
    assert prompt_event["origin"] == "station (client 127.0.0.1)"


def test_a_first_stop_cleans_up_and_a_second_stops_at_once(
    station: StationProcess, operator: httpx.Client
) -> None:
    run_id = _start(operator, {"procedure": "pressure_decay.yaml", "seed": 5, "speed": 50})
    wait_until(
        lambda: (operator.get("/api/live").json().get("step") or {}).get("kind") == "fill", RUN_TIMEOUT_S
    )
    assert operator.post(f"/api/runs/{run_id}/stop").json()["stops"] == 1
    second = operator.post(f"/api/runs/{run_id}/stop")
    immediate = second.status_code == 200  # still cleaning up: the second stop skips the rest
    if immediate:
        assert second.json()["immediate"] is True
    finished = _finished(operator, run_id)
    assert finished["verdict"] == "ABORTED" and "stop from station (client 127.0.0.1)" in finished["reason"]
    messages = [e["message"] for e in _events(station, run_id)]
    assert any(m.startswith("stop requested (stop from station (client 127.0.0.1))") for m in messages)
    assert "safe state commanded" in messages
    ending = next(
        m for m in messages if m.startswith("safe state confirmed") or m.startswith("safe state NOT")
    )
    if immediate:
        # Confirmed only with evidence: at once, the gas is not waited for, and the record says so.
        assert ending == "safe state confirmed" or "the gas was not waited for (stopped at once" in ending
    else:
        assert ending == "safe state confirmed"


def test_the_event_stream_resumes_and_a_vanished_page_disturbs_nothing(
    station: StationProcess, operator: httpx.Client
) -> None:
    assert operator.get("/api/events", params={"since": "abc"}).status_code == 400
    seq = operator.get("/api/live").json()["seq"]
    run_id = _start(operator, {"procedure": "pressure_decay.yaml", "seed": 6, "speed": 1000})
    # A page reads a few messages and vanishes mid-run, without closing anything politely.
    received: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{station.url}/api/events", params={"since": seq}, timeout=30.0) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                received.append(json.loads(line[len("data: ") :]))
            if len(received) >= 5:
                break
    assert received[0]["type"] == "run" and received[0]["run_id"] == run_id
    assert [m["seq"] for m in received] == list(range(seq + 1, seq + 6))
    assert _finished(operator, run_id)["verdict"] == "PASS"
    # Reconnecting with the last number seen gives what followed it, in order.
    with httpx.stream(
        "GET", f"{station.url}/api/events", headers={"Last-Event-ID": str(seq + 5)}, timeout=30.0
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                assert json.loads(line[len("data: ") :])["seq"] == seq + 6
                break


def test_a_page_opened_after_the_run_is_given_its_trace_from_the_record(
    station: StationProcess, operator: httpx.Client
) -> None:
    run_id = _start(operator, {"procedure": "pressure_decay.yaml", "seed": 7})
    _finished(operator, run_id)
    live = operator.get("/api/live").json()
    samples = (station.data_dir / "runs" / run_id / "samples.csv").read_text().splitlines()
    assert live["run"]["run_id"] == run_id
    assert len(live["trace"]["t"]) == len(samples) - 1  # under the thinning threshold: every sample
    assert float(samples[-1].split(",")[0]) == live["trace"]["t"][-1]


def test_a_termination_signal_mid_run_ends_in_the_safe_state_then_the_station(tmp_path: Path) -> None:
    with StationProcess(tmp_path / "data") as station, station.client(operator=True) as client:
        run_id = _start(client, {"procedure": "pressure_decay.yaml", "seed": 8, "speed": 50})
        wait_until(
            lambda: (client.get("/api/live").json().get("step") or {}).get("kind") == "fill", RUN_TIMEOUT_S
        )
        assert station.stop(signal.SIGTERM) == 0, station.stderr
    events = _events(station, run_id)
    messages = [e["message"] for e in events]
    assert "safe state confirmed" in messages
    assert any("SIGTERM" in m for m in messages)
    verify = subprocess.run(
        [sys.executable, "-m", "rig", "verify", str(station.data_dir / "runs" / run_id)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout
    results = json.loads((station.data_dir / "runs" / run_id / "results.json").read_text())
    assert results["verdict"] == "ABORTED"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--bench", "no-such-bench.yaml"], "no-such-bench.yaml"),
        (["--bench", "procedures/benches/vacuum_chamber_mockup.yaml", "--port", "70000"], "--port must be"),
        (
            ["--bench", "procedures/benches/vacuum_chamber_mockup.yaml", "--host", "256.1.1.1"],
            "cannot listen",
        ),
        (["--bench", "procedures/benches/vacuum_chamber_mockup.yaml", "--speed", "-1"], "--speed must be"),
        (["--bench", "procedures/pressure_decay.yaml"], "pressure_decay.yaml"),
    ],
)
def test_bad_station_arguments_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rig", "station", *args, "--sim"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert done.stdout == "" and says in lines[0] and "Traceback" not in done.stderr
    # One line, or one located line per problem of a bench file (as rig validate lists them).
    assert len(lines) == 1 or all(re.search(r"\.yaml:\d+:\d+: ", line) for line in lines), lines


def test_the_token_may_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config" / "leakrig"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('station_token = "from-the-config"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    with StationProcess(tmp_path / "data", env=env) as station:
        assert station.token == "from-the-config"
        with station.client(operator=True) as client:
            refused = client.post("/api/runs", json={}, headers={"Authorization": "Bearer something-else"})
            assert refused.status_code == 401
            assert client.post("/api/runs", json={}).status_code == 400  # past the token: the body is wrong


def test_a_prompt_is_answered_at_the_stations_terminal_too(tmp_path: Path) -> None:
    terminal, station_side = pty.openpty()  # the station's stdin is a terminal: it reads answers there
    try:
        station = StationProcess(tmp_path / "data", "--operator", "Term Op", stdin=station_side)
        with station, station.client(operator=True) as client:
            run_id = _start(client, {"procedure": PROMPT_ONLY, "seed": 2})
            _waiting_prompt(client)
            os.write(terminal, b"yes\n")
            assert _finished(client, run_id)["verdict"] == "PASS"
    finally:
        os.close(terminal)
        os.close(station_side)
    prompt = next(e for e in _events(station, run_id) if e["kind"] == "prompt")
    assert (prompt["answer"], prompt["answered_by"], prompt["origin"]) == ("yes", "Term Op", "terminal")
