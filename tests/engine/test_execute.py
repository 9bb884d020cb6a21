"""One way to execute (issue 13): the record and whoever watches see one event stream.

Every run goes through :func:`rig.execution.execute.execute`; the record writer is an observer
like the live view, first in the stream. What a watcher saw must be exactly what the record
holds (no sample or event only one of them knows), the instruments' identities are recorded
for every run, not only ``rig run``'s, and an observer is told each event after the record has
it on disk.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import Runner, RunOutcome, RunVerdict
from tests.engine.sim_runs import recorded_in, run, with_faults


class Tape(NullObserver):
    """Keeps everything the stream says, and checks each event is already in the record."""

    def __init__(self, runner: Runner) -> None:
        self.events_file = recorded_in(runner) / "events.jsonl"
        self.steps: list[str] = []
        self.samples: list[tuple[float, dict[str, float | None]]] = []
        self.events: list[dict[str, Any]] = []
        self.on_disk_first = True
        self.outcome: RunOutcome | None = None

    def step_started(self, progress: StepProgress) -> None:
        self.steps.append(progress.name)

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        self.samples.append((t_s, dict(values)))

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        self.events.append({"t": t_s, "kind": kind, "message": message, **data})
        lines = self.events_file.read_text().splitlines()
        self.on_disk_first &= bool(lines) and json.loads(lines[-1])["message"] == message

    def finished(self, outcome: RunOutcome) -> None:
        self.outcome = outcome


def taped(tmp_path: Path, procedure: str, bench: Path | None = None) -> tuple[Any, Tape]:
    tapes: list[Tape] = []

    def watch(runner: Runner) -> Tape:
        tapes.append(Tape(runner))
        return tapes[0]

    return run(tmp_path, procedure, bench=bench, observer=watch), tapes[0]


@pytest.mark.parametrize(
    ("procedure", "faults"),
    [
        ("pressure_decay", ()),
        # A gauge that jumps and a valve that seizes: the record and the watcher still agree.
        ("pressure_decay", ("{instrument: gauges, kind: zero_shift, channel: 2, at: 300 s, shift: 40 Pa}",)),
        ("pressure_decay", ("{instrument: daq, kind: stuck_valve, channel: 201, at: 30 s}",)),
    ],
)
def test_the_watcher_sees_exactly_what_the_record_holds(
    tmp_path: Path, procedure: str, faults: tuple[str, ...]
) -> None:
    bench = with_faults(tmp_path, *faults) if faults else None
    done, tape = taped(tmp_path, procedure, bench)
    with (done.run_dir / "samples.csv").open(newline="") as fh:
        header, *rows = list(csv.reader(fh))
    channels = header[2:]
    # One recorded sample per instant (the virtual clock stands still between steps that take
    # no time; the engine records the instant's first reading), each one a row.
    times = [t_s for t_s, _ in tape.samples]
    assert times == sorted(set(times))
    assert len(rows) == len(tape.samples) > 0
    for row, (t_s, values) in zip(rows, tape.samples, strict=True):
        assert float(row[0]) == t_s
        assert [float(v) if v else None for v in row[2:]] == [values.get(c) for c in channels]
    # The step column is the step the watcher was told of last ("start" before the first).
    assert {row[1] for row in rows} <= {"start", *tape.steps}
    assert done.events() == json.loads(json.dumps(tape.events, default=str))
    assert tape.on_disk_first, "an observer heard of an event before the record had it"
    assert tape.outcome is done.outcome
    results = json.loads((done.run_dir / "results.json").read_text())
    assert results["verdict"] == done.outcome.verdict.value


def test_every_executed_run_records_its_instruments(tmp_path: Path) -> None:
    done = run(tmp_path, "pressure_decay")
    info = json.loads((done.run_dir / "run.json").read_text())
    assert set(info["identities"]) == set(done.procedure.bench.instruments)
    assert all(info["identities"].values())
    assert set(info["settings"]) <= set(done.procedure.bench.instruments)
    assert done.outcome.verdict is RunVerdict.PASS
