"""Issue 7, part 4: a long simulated monitoring run keeps its memory and grows its record linearly.

The ISS mockup is watched at 1 Hz with every hatch open (a ``wait`` step: the run engine,
the drivers over pyvisa-py, the simulated servers and the physics, all in this process)
on a virtual clock. The resident memory is read from /proc at the end of the first
simulated hour and at the end; the record's size at every hour. CI soaks 6 simulated
hours; ``RELIABILITY_FULL=1`` soaks the 7 days the issue asks for.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rig.engine.observer import NullObserver
from rig.engine.runner import Runner, RunVerdict
from tests.engine.sim_runs import recorded_in, run

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "procedures" / "benches" / "iss_segment_mockup.yaml"
HOURS = 7 * 24 if os.environ.get("RELIABILITY_FULL") else 6
WEEK_H = 7 * 24
GROWTH_BOUND_MB = 20.0  # from the first simulated hour to the last of a week

pytestmark = pytest.mark.integration


def rss_mb() -> float:
    """The process's resident memory now (not its peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class HourlyWatch(NullObserver):
    """Notes the memory and the record's size at every simulated hour."""

    def __init__(self, samples: Path) -> None:
        self.samples = samples
        self.next_hour = 3600.0
        self.start: float | None = None
        self.hours: list[tuple[float, float, int]] = []  # (hour, rss MB, samples.csv bytes)

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        if self.start is None:
            self.start = t_s
        if t_s - self.start >= self.next_hour:
            self.hours.append((self.next_hour / 3600.0, rss_mb(), self.samples.stat().st_size))
            self.next_hour += 3600.0


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident memory from /proc")
def test_a_long_monitoring_run_holds_its_memory_and_grows_its_record_linearly(tmp_path: Path) -> None:
    procedure_path = tmp_path / "monitor.yaml"
    procedure_path.write_text(
        "procedure: station_monitoring\nversion: 1\nsample_period: 1 s\n"
        f"main:\n  - wait: {{duration: {HOURS} h}}\n"
    )
    watching: list[HourlyWatch] = []

    def watch_hours(runner: Runner) -> HourlyWatch:
        watching.append(HourlyWatch(recorded_in(runner) / "samples.csv"))
        return watching[0]

    wall = time.monotonic()
    outcome = run(tmp_path, procedure_path, ISS, seed=1, observer=watch_hours, timeout_s=2.0).outcome
    wall = time.monotonic() - wall
    (watch,) = watching
    assert outcome.verdict is RunVerdict.PASS, outcome.reason
    assert len(watch.hours) >= HOURS - 1
    first_rss, last_rss = watch.hours[0][1], watch.hours[-1][1]
    # A shorter soak answers for the week at the rate it grew: (last − first) per hour × a week's hours.
    span_h = watch.hours[-1][0] - watch.hours[0][0]
    growth = (last_rss - first_rss) / span_h * (WEEK_H - 1) if span_h > 0 else 0.0
    per_hour = [b - a for (_, _, a), (_, _, b) in zip(watch.hours, watch.hours[1:], strict=False)]
    report = os.environ.get("RELIABILITY_REPORT")
    if report:
        row = {
            "suite": "soak",
            "simulated_hours": HOURS,
            "samples": HOURS * 3600,
            "wall_s": round(wall, 1),
            "rss_after_1_h_mb": round(first_rss, 1),
            "rss_at_end_mb": round(last_rss, 1),
            "growth_over_a_week_mb": round(growth, 2),
            "bound_mb": GROWTH_BOUND_MB,
            "record_bytes_per_hour_min": min(per_hour),
            "record_bytes_per_hour_max": max(per_hour),
        }
        with open(report, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    # Linear: every hour adds the same bytes (3600 rows), within a few percent for digit counts.
    assert max(per_hour) <= 1.1 * min(per_hour), per_hour
    assert growth <= GROWTH_BOUND_MB, (first_rss, last_rss, growth)
