"""A small bench and procedure written to a directory, every uncertainty switched on or off by a keyword.

Shared by the plan's maths tests (``tests/analysis/test_planner.py``) and its checks
(``tests/planning``), so that each test sees one effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rig.analysis.planner import MeasurementSetup
from rig.planning import choose_measurement, setup_for
from rig.procedure.loader import Procedure, load_procedure

SCCM = 1.81240000915248e-3  # 1 sccm (0 °C) as pV throughput at 293.15 K, Pa·m³/s
LIMIT = 0.1 * SCCM


def procedure_of(
    tmp_path: Path,
    *,
    model: str = "DAQ970A",
    noise: str = "1 Pa",
    resolution: str = "0.001 Pa",
    volume: str = "1 L",
    volume_u: str = "0 L",
    accuracy: str = "0.000001",
    drift: str = "0 K/s",
    to: str = "2 bar",
    temperature: bool = False,
) -> Procedure:
    """A decay of a 1 L article after a fill, on a bench with exactly the uncertainties asked for."""
    gauge = f"  g: {{model: {model}}}\n" if model != "DAQ970A" else ""
    where = "instrument: g, channel: 1" if model != "DAQ970A" else "instrument: daq, channel: 102"
    (tmp_path / "bench.yaml").write_text(
        f"""\
bench: plan_test
instruments:
{gauge}  daq: {{model: DAQ970A}}
volumes:
  article: {{size: {volume}, uncertainty: {volume_u}}}
channels:
  p: {{{where}, measures: pressure, volume: article,
      noise: {noise}, resolution: {resolution}, accuracy: {accuracy}}}
  t: {{instrument: daq, channel: 101, measures: temperature, volume: article}}
valves:
  supply: {{instrument: daq, channel: 201, between: [supply, article]}}
safe_state: {{supply: closed}}
environment: {{temperature_drift: {drift}}}
"""
    )
    thermometer = ", temperature: t" if temperature else ""
    (tmp_path / "procedure.yaml").write_text(
        f"""\
procedure: plan_test
version: 1
bench: bench.yaml
sample_period: 1 s
main:
  - fill: {{volume: article, to: {to}, tolerance: 1 mbar, timeout: 5 min, through: supply}}
  - measure_decay: {{name: decay, channel: p, volume: article, duration: 10 min{thermometer}}}
"""
    )
    return load_procedure(tmp_path / "procedure.yaml")


def setup_of(tmp_path: Path, **bench: Any) -> MeasurementSetup:
    """The plan's view of :func:`procedure_of`'s measurement (same keywords)."""
    procedure = procedure_of(tmp_path, **bench)
    return setup_for(procedure, choose_measurement(procedure))
