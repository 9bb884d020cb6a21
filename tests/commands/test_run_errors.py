"""``rig run`` on a bench whose instruments do not all answer: ABORTED (exit 3), the rest made safe.

The DAQ is a simulated DAQ970A server on 127.0.0.1; the gauge controller is a port where
nothing listens, or a server that accepts and never replies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.cli import main
from rig.record.run_store import RunStore
from rig.sim.backend import StaticDaq
from rig.sim.servers.daq import DaqServer
from tests.listening import Mute, nobody_listening

pytestmark = pytest.mark.integration

BENCH = """\
bench: half_there
instruments:
  gauges: {{model: TPG362, resource: "{gauges}"}}
  daq: {{model: DAQ970A, resource: "{daq}"}}
volumes:
  article: {{size: 1 L}}
channels:
  p_article: {{instrument: gauges, channel: 1, measures: pressure, volume: article}}
  t_article: {{instrument: daq, channel: 101, measures: temperature, volume: article}}
valves:
  supply: {{instrument: daq, channel: 201, between: [supply, article]}}
  vent: {{instrument: daq, channel: 202, between: [article, atmosphere]}}
limits: {{max_pressure: 3 bar, min_pressure: 0 Pa}}
safe_state: {{supply: closed, vent: open}}
"""

PROCEDURE = """\
procedure: hold
version: 1
bench: bench.yaml
sample_period: 1 s
main:
  - set_valves: {valves: {supply: open}}
  - wait: {duration: 5 s}
"""


@pytest.fixture
def daq() -> Iterator[tuple[DaqServer, StaticDaq]]:
    backend = StaticDaq()
    backend.closed.add(201)  # someone left the supply open
    with DaqServer(backend) as server:
        yield server, backend


@pytest.fixture
def mute() -> Iterator[Mute]:
    server = Mute()
    yield server
    server.close()


def write_procedure(tmp_path: Path, gauges: str, daq: str) -> Path:
    (tmp_path / "bench.yaml").write_text(BENCH.format(gauges=gauges, daq=daq))
    procedure = tmp_path / "hold.yaml"
    procedure.write_text(PROCEDURE)
    return procedure


def rig_run(
    capsys: pytest.CaptureFixture[str], procedure: Path, data_dir: Path, *extra: str
) -> tuple[int, str, str]:
    argv = ["run", str(procedure), "--data-dir", str(data_dir), "--allow-expired-calibration", *extra]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def the_reason(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rig run: ABORTED: instrument fault before the run started: "), err
    return lines[0]


@pytest.mark.parametrize("gauges", ["nobody", "mute"])
def test_a_gauge_that_does_not_answer_aborts_and_the_daq_is_made_safe(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    daq: tuple[DaqServer, StaticDaq],
    mute: Mute,
    gauges: str,
) -> None:
    server, backend = daq
    resource = mute.resource if gauges == "mute" else nobody_listening()
    procedure = write_procedure(tmp_path, resource, server.resource)
    code, out, err = rig_run(capsys, procedure, tmp_path / "data", "--json")
    assert code == 3
    reason = the_reason(err)
    assert f"gauges: {resource}" in reason
    # Commanded, and the relays read back; never "confirmed" without switches or gas watched.
    assert "safe state commanded on daq (relays read back as told; not confirmed" in reason
    assert backend.closed == {202}  # supply closed, vent open: the bench's safe state
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["verdict"], summary["run_id"]) == ("ABORTED", None)
    assert summary["reason"] == reason.removeprefix("rig run: ABORTED: ")
    assert RunStore(tmp_path / "data").runs() == []  # nothing was measured: no run recorded


def test_when_nothing_answers_the_safe_state_is_not_claimed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    daq = nobody_listening()
    procedure = write_procedure(tmp_path, nobody_listening(), daq)
    code, out, err = rig_run(capsys, procedure, tmp_path / "data")
    assert (code, out) == (3, "")
    reason = the_reason(err)
    assert f"safe state NOT commanded everywhere: daq: {daq}" in reason


def test_a_daq_that_does_not_answer_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mute: Mute
) -> None:
    # The gauge is there but the DAQ, which holds the valves, is mute.
    procedure = write_procedure(tmp_path, nobody_listening(), mute.resource)
    code, _, err = rig_run(capsys, procedure, tmp_path / "data")
    assert code == 3
    assert "safe state NOT commanded everywhere: daq: " in the_reason(err)
