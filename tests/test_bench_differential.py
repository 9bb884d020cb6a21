"""A bench's differential pressure channels: parsed, and each mistake located at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.bench import load_bench
from rig.bench_gauges import sensor_accuracy, sensor_floor
from rig.located_yaml import LocatedError
from tests.engine.sim_runs import MOCKUP

BENCH = """\
bench: b
instruments:
  gauges: {model: TPG362}
  daq: {model: DAQ970A}
volumes:
  test: {size: 1 L}
  reference: {size: 2 L}
channels:
  p: {instrument: gauges, channel: 1, measures: pressure, volume: test}
  dp: {instrument: daq, channel: 115, measures: differential_pressure, DP
""".replace("DP", "volumes: [test, reference], full_scale: 500 Pa}")


def position(text: str, marker: str) -> str:
    """line:col (1-based) of the first ``marker`` in ``text``."""
    offset = text.index(marker)
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def test_a_differential_channel_reads_two_volumes_with_its_full_scale(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH)
    spec = load_bench(path).channels["dp"]
    assert (spec.measures, spec.volumes, spec.full_scale_pa, spec.volume) == (
        "differential_pressure",
        ("test", "reference"),
        500.0,
        None,
    )
    # Without a word from the bench, the head's own class: 1e-5 of full scale, 0.3 % of reading.
    bench = load_bench(path)
    assert sensor_floor(bench, "dp")[0] == pytest.approx(5e-3)
    assert sensor_accuracy(bench, "dp") == pytest.approx(0.003)


def test_the_mockup_wires_its_head_between_the_article_and_the_reference() -> None:
    bench = load_bench(MOCKUP)
    spec = bench.channels["dp_article"]
    assert spec.volumes == ("article", "reference") and spec.full_scale_pa == 1000.0
    assert sensor_floor(bench, "dp_article") == (0.01, 0.005)
    assert sensor_accuracy(bench, "dp_article") == 0.003


DP = "volumes: [test, reference], full_scale: 500 Pa}"


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (DP, "full_scale: 500 Pa}", "{instrument: daq, channel: 115", "names its two sides"),
        (DP, "volumes: [test], full_scale: 500 Pa}", "[test]", "exactly two volumes"),
        (DP, "volumes: [test, tset], full_scale: 500 Pa}", "tset]", "unknown volume 'tset'"),
        (DP, "volumes: [test, test], full_scale: 500 Pa}", "[test, test]", "a volume and itself"),
        (DP, "volumes: [test, reference]}", "{instrument: daq, channel: 115", "full scale"),
        (DP, "volumes: [test, reference], full_scale: -5 Pa}", "-5 Pa", "must be positive"),
        (DP, "volumes: [test, reference], full_scale: 5 V}", "5 V}", "is not a pressure"),
        (DP, "volume: test, " + DP, "test, volumes", "name them as `volumes: [test, reference]`"),
        (
            "volume: test}",
            "volume: test, full_scale: 1 bar}",
            "1 bar",
            "only a differential_pressure channel",
        ),
        (
            "channel: 1, measures: pressure, volume: test}",
            "channel: 1, measures: differential_pressure, " + DP,
            "differential_pressure, vol",
            "reads a pressure gauge, not a differential_pressure",
        ),
        ("channel: 115", "channel: 205", "205", "relay of the 34903A"),
    ],
)
def test_mistakes_are_located(tmp_path: Path, old: str, new: str, marker: str, message: str) -> None:
    assert old in BENCH
    text = BENCH.replace(old, new, 1)
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    with pytest.raises(LocatedError) as raised:
        load_bench(path)
    line = str(raised.value)
    assert f"bench.yaml:{position(text, marker)}:" in line, line
    assert message in line, line
