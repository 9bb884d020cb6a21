"""A pressure-decay test written in Python: typed steps, one step kind of our own, run in simulation.

The procedure is procedures/pressure_decay.yaml's, built from the same step classes the YAML
makes (every attribute in SI), with one step the lab wrote itself: ``ThermalSoak`` holds until
the article's thermometer has settled. It is validated, run and recorded exactly as ``rig run
--sim`` would run the same procedure written as a file; the run directory's procedure.yaml is
the document it was checked as, and ``rig verify RUN_DIR`` checks its seal.

    python procedures/examples/python_procedure.py [DATA_DIR] [--seed N]
"""

from __future__ import annotations

import argparse
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rig.api import Procedure, procedure, run
from rig.steps import CheckContext, Step, StepContext, register_step, step_field
from rig.steps.fields import CHANNEL_REF, TEMPERATURE, TIME
from rig.steps.fill import Fill
from rig.steps.isolate import Isolate
from rig.steps.measure_decay import MeasureDecay
from rig.steps.set_valves import SetValves
from rig.steps.stabilise import Stabilise
from rig.units import T_TWENTY_C_K, convert_leak_rate, parse_leak_rate

BENCH = Path(__file__).resolve().parents[1] / "benches" / "vacuum_chamber_mockup.yaml"
LIMIT_PA_M3_S = parse_leak_rate("0.5 sccm", "limit", pv_temperature_k=T_TWENTY_C_K)


@register_step
@dataclass(frozen=True, kw_only=True)
class ThermalSoak(Step):
    """Hold until thermometer ``channel`` read within ``band_k`` for ``window_s`` (at most ``timeout_s``)."""

    kind: ClassVar[str] = "thermal_soak"
    bound_field: ClassVar[str | None] = "timeout"

    channel: str = step_field("channel", CHANNEL_REF)
    band_k: float = step_field("band", TEMPERATURE)
    window_s: float = step_field("window", TIME)
    timeout_s: float = step_field("timeout", TIME)

    def check(self, ctx: CheckContext) -> None:
        """A window longer than the timeout could never be seen whole."""
        if ctx.has("window_s", "timeout_s") and self.window_s > self.timeout_s:
            ctx.refuse(
                "window_s", f"a {self.window_s:g} s window is longer than the {self.timeout_s:g} s timeout"
            )

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """It ends when the thermometer settles: no nominal time, at most its timeout."""
        return None, self.timeout_s

    def run(self, ctx: StepContext) -> None:
        """Sample until the readings of the last window lie within the band, or the timeout."""
        start_s = ctx.now()
        recent: deque[tuple[float, float]] = deque()

        def settled(values: dict[str, float | None]) -> bool:
            now_s, reading_k = ctx.now(), values.get(self.channel)
            if reading_k is not None:
                recent.append((now_s, reading_k))
            while recent and recent[0][0] < now_s - self.window_s:
                recent.popleft()
            readings = [k for _, k in recent]
            return (
                now_s - start_s >= self.window_s
                and bool(readings)
                and max(readings) - min(readings) <= self.band_k
            )

        if ctx.hold(self.timeout_s, until=settled):
            ctx.event("thermal_soak", f"{self.channel} settled within {self.band_k:g} K")
        else:
            ctx.event("thermal_soak", f"{self.channel} did not settle within {self.band_k:g} K")


def leak_check(name: str = "python_pressure_decay") -> Procedure:
    """The procedure: fill the article to 2 bar, isolate, soak, stabilise, fit the decay for 10 min."""
    return procedure(
        name,
        BENCH,
        description="2 bar pressure decay of the 1 L article, 0.5 sccm limit, built in Python",
        setup=[SetValves(valves={"vent": False, "pump": False, "reference": False})],
        main=[
            SetValves(valves={"article": True}),
            Fill(
                volume="article",
                to_pa=2e5,
                tolerance_pa=5e3,
                timeout_s=300.0,
                through="supply",
                channel="p_article",
            ),
            Isolate(volume="article"),
            SetValves(valves={"vent": True}),
            ThermalSoak(channel="t_article", band_k=0.5, window_s=30.0, timeout_s=600.0),
            Stabilise(
                channel="p_article",
                temperature="t_article",
                reject_limit_pa_m3_s=LIMIT_PA_M3_S,
                window_s=30.0,
                max_s=900.0,
                on_timeout="fail",
            ),
            MeasureDecay(
                name="decay",
                channel="p_article",
                temperature="t_article",
                volume="article",
                duration_s=600.0,
                limit_pa_m3_s=LIMIT_PA_M3_S,
            ),
        ],
        cleanup=[SetValves(valves={"supply": False, "pump": False, "vent": True, "article": True})],
    )


def main() -> int:
    """Build, run in simulation, print the verdict and the leak rate; exit as ``rig run`` would."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", help="where the run is recorded (default: the user's)")
    parser.add_argument("--seed", type=int, help="simulation seed (default: the bench file's)")
    args = parser.parse_args()
    result = run(leak_check(), sim=True, seed=args.seed, data_dir=args.data_dir)
    print(f"verdict: {result.verdict.value} ({result.reason})")
    decay = result.measurements.get("decay")
    if decay is not None and decay.value_pa_m3_s is not None:
        sccm = convert_leak_rate(decay.value_pa_m3_s, "sccm", pv_temperature_k=T_TWENTY_C_K)
        print(f"leak rate: {decay.value_pa_m3_s:.4g} Pa*m**3/s ({sccm:.4g} sccm)")
    print(f"run: {result.run_id} {result.run_dir}")
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
