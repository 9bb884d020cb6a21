"""A gauge beyond its range: told once per episode in the events, counted apart from dropouts.

The simulated mockup's differential head (full scale 1000 Pa) saturates while the article is
filled to 2 bar against the reference at the atmosphere: over range for most of a decay run.
"""

from __future__ import annotations

import json
from pathlib import Path

from drivers.readings import GaugeState
from rig.engine.range_watch import RangeWatch
from rig.report.certificate_view import _faults
from tests.engine.sim_runs import run


def test_an_episode_is_two_changes_however_many_samples_it_lasts() -> None:
    watch = RangeWatch(["dp", "p"])
    over = {"dp": GaugeState.OVERRANGE}
    assert [c.message() for c in watch.update(0.0, over)] == [
        "dp: over range (recorded as empty cells, counted as over range, not as dropouts)"
    ]
    for t in range(1, 100):
        assert watch.update(float(t), over) == []
    under = watch.update(100.0, {"dp": GaugeState.UNDERRANGE})
    assert [(c.channel, c.state) for c in under] == [("dp", GaugeState.UNDERRANGE)]
    (back,) = watch.update(130.0, {})
    assert back.state is None and back.message() == "dp: back in range after 130.0 s"
    assert watch.counts() == {"over_range": {"dp": 100, "p": 0}, "under_range": {"dp": 1, "p": 0}}


def test_a_saturated_head_is_one_event_and_its_own_count(tmp_path: Path) -> None:
    done = run(tmp_path, "pressure_decay")
    faults = done.outcome.faults
    over = faults["over_range"]["dp_article"]
    assert over > 100  # the head saturates for most of the run...
    assert faults["dropouts"]["dp_article"] == 0  # ...and none of it is a dropout
    events = [e for e in done.events() if e.get("kind") == "range"]
    mine = [e for e in events if e.get("channel") == "dp_article"]
    assert 1 <= len(mine) <= 4, mine  # told per episode, never per sample
    assert mine[0]["message"].startswith("dp_article: over range")
    samples = (done.run_dir / "samples.csv").read_text().splitlines()
    column = samples[0].split(",").index("dp_article")
    empty = sum(1 for row in samples[1:] if row.split(",")[column] == "")
    assert empty == over  # every over-range sample is an empty cell, and counted as such
    results = json.loads((done.run_dir / "results.json").read_text())
    assert results["faults"]["over_range"]["dp_article"] == over
    line = _faults(results["faults"])
    assert "over range: " in line and f"dp_article {over}" in line and "dropouts: none" in line
