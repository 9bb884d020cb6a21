"""``measure_flow``: the make-up flow that holds a volume's pressure is its leak.

A flow controller feeding the volume is told to hold ``hold`` (absolute); after ``settle``
(the fill's heat gone, the loop steady) the flow it reads is sampled for ``duration``. In
steady state what comes in is what leaks out, so the leak rate is the mean make-up flow,
ṅ·R·T_ref, reported at the rig's reference temperature (20 °C) as a decay's is
(:mod:`rig.analysis.decay`). Then the flow is stopped.

Its uncertainty, combined in quadrature (:class:`rig.analysis.budget.Budget`):

* ``fit``: the spread of the mean, with the samples' autocorrelation accounted for. A line is
  fitted to the flow (:func:`rig.analysis.linefit.fit_line`: its AR(1)-aware residual variance,
  effective sample count and degrees of freedom); the mean's variance is that residual
  variance times I/n, i.e. SSE/((n_eff − 2)·n). A drift of the flow goes into the line, not
  into the spread.
* ``meter_accuracy``: the datasheet's bound ±(accuracy × reading + accuracy × full scale)
  (Alicat: 0.8 % + 0.2 %), a systematic error the mean does not average away; nothing says
  where it lies within the bound: rectangular, bound/√3.
* ``resolution``: one printed step of the flow, rectangular.

The verdict is :func:`rig.analysis.verdict.decide` on these (PASS / FAIL / INCONCLUSIVE from
confidence bounds), through the same measurement entry as a decay (:func:`decay_entry`): the
mean is carried as the equivalent decay of the volume, −Q/V from the held pressure (what the
volume would show if nothing fed it). No line is recorded: a record's line is a pressure path
drawn over its channel's samples, and this channel's samples are a flow. The smallest leak
the meter can tell from none is its zero's bound plus one step (at zero flow): the validator
refuses a limit it cannot resolve by the E2930 rule, ten times that. A flow that still drifts
over the window (surely, and by more than the mean's uncertainty) gives no verdict ("not
steady"), nor does one at the controller's full scale ("not held"), and one that misses more
than a tenth of its samples no PASS ("incomplete").
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from drivers.errors import DriverError
from drivers.models import MODELS, FlowRange
from rig.analysis.budget import E2930_FRACTION, SQRT3, Budget
from rig.analysis.decay import DecayFit
from rig.analysis.linefit import LineFit, fit_line
from rig.bench import BenchSpec
from rig.engine.measurements import Measurement, decay_entry
from rig.engine.measuring import INCOMPLETE, MAX_MISSING_SHARE, NOT_STEADY
from rig.outcome import Outcome
from rig.steps.base import Level, MeasuredWindow, Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, LEAK_RATE, PRESSURE, TEXT, TIME, VOLUME_REF, step_field
from rig.units import R_GAS, T_TWENTY_C_K

METHOD_FLOW = "mean-make-up-flow"
# How surely a drift of the make-up flow must be there before it withdraws a verdict.
DRIFT_SIGMAS = 3.0
# A controller whose mean flow is this close to its full scale was (at times) wide open: the
# pressure it was told to hold was not held, and what it passed is not the leak.
SATURATED = 0.98


@dataclass(frozen=True, kw_only=True)
class MeasureFlow(Step):
    """Hold ``hold_pa`` on ``volume`` with ``channel``'s controller; its mean make-up flow is the leak."""

    kind: ClassVar[str] = "measure_flow"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    channel: str = step_field("channel", CHANNEL_REF)
    volume: str = step_field("volume", VOLUME_REF)
    hold_pa: float = step_field("hold", PRESSURE)
    settle_s: float = step_field("settle", TIME)
    duration_s: float = step_field("duration", TIME)
    limit_pa_m3_s: float | None = step_field("limit", LEAK_RATE, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """A flow channel on a controller feeding the volume, a hold within the limits, a resolvable limit."""
        if ctx.has("name"):
            ctx.measure(self.name)
        bench = ctx.bench
        if bench is None:
            return
        flow = None
        if ctx.has("channel"):
            flow = self._controller_range(ctx, bench)
        if ctx.has("hold_pa"):
            low, high = bench.min_pressure_pa, bench.max_pressure_pa
            if not low < self.hold_pa < high:
                ctx.refuse(
                    "hold_pa",
                    f"a hold of {self.hold_pa:g} Pa is outside the bench's limits ({low:g} to {high:g} Pa): "
                    "the interlock would trip",
                )
            elif ctx.has("volume"):
                ctx.bring(Level(self.volume, self.hold_pa))
        for attr in ("settle_s", "duration_s"):
            if ctx.has(attr) and not getattr(self, attr) > 0.0:
                ctx.refuse(attr, "a time to wait is positive")
        if flow is not None and self.limit_pa_m3_s is not None and ctx.has("limit_pa_m3_s"):
            floor = meter_floor_pa_m3_s(flow)
            if floor > E2930_FRACTION * self.limit_pa_m3_s:
                ctx.refuse(
                    "limit_pa_m3_s",
                    f"a limit of {self.limit_pa_m3_s:.3g} Pa·m³/s cannot be resolved by a meter of "
                    f"{flow.full_scale_sccm:g} sccm full scale: its zero is known only to ±"
                    f"{floor:.3g} Pa·m³/s (±{flow.accuracy_full_scale:.2%} of full scale and one step), "
                    f"and a test must resolve a tenth of its limit (ASTM E2930); use a smaller meter",
                )

    def _controller_range(self, ctx: CheckContext, bench: BenchSpec) -> FlowRange | None:
        spec = bench.channels[self.channel]
        model = MODELS[bench.instruments[spec.instrument].model]
        if spec.measures != "flow" or model.flow is None:
            ctx.refuse(
                "channel", f"{self.channel!r} measures {spec.measures}: measure_flow reads a flow channel"
            )
            return None
        if model.kind != "flow_controller":
            meter = f"{spec.instrument!r}, a {model.name} meter"
            why = f"{self.channel!r} is on {meter}: holding a pressure needs a controller"
            ctx.refuse("channel", why)
            return None
        if ctx.has("volume") and spec.volume != self.volume:
            ctx.refuse("volume", f"{spec.instrument!r} feeds {spec.volume!r}, not {self.volume!r}")
        return model.flow

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its settling and its measurement."""
        total = self.settle_s + self.duration_s
        return total, total

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its flow channel (the mean is taken from its samples)."""
        return (self.channel,)

    def level(self) -> Level | None:
        """The held pressure."""
        return Level(self.volume, self.hold_pa)

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """None: its measurement is no fit of a pressure window (nothing there to refit or draw)."""
        return None

    def run(self, ctx: StepContext) -> None:
        """Hold the pressure, settle, sample the flow, stop it, record the mean as the leak."""
        instrument = ctx.bench.channels[self.channel].instrument
        ctx.hold_pressure(instrument, self.hold_pa)
        try:
            ctx.hold(self.settle_s)
            start = ctx.now()
            ctx.hold(self.duration_s)
            end = ctx.now()
        except BaseException:
            # The run's safe state stops it again and says so if it cannot: the first fault stands.
            with contextlib.suppress(DriverError):
                ctx.stop_flow(instrument)
            raise
        ctx.stop_flow(instrument)
        times = ctx.series.times()
        inside = times >= start
        flows = ctx.series.values(self.channel)[inside]
        entry = flow_entry(ctx.bench, self, times[inside], flows, (start, end))
        ctx.record(self.name, entry)


def meter_floor_pa_m3_s(flow: FlowRange, t_ref_k: float = T_TWENTY_C_K) -> float:
    """The smallest leak ``flow``'s meter tells from none: its zero's bound plus one step, Pa·m³/s."""
    floor_mol_s = (
        flow.accuracy_full_scale * flow.full_scale_mol_s + flow.resolution_sccm * flow.mol_s_per_sccm
    )
    return floor_mol_s * R_GAS * t_ref_k


def flow_entry(
    bench: BenchSpec,
    step: MeasureFlow,
    times_s: np.ndarray,
    flows_mol_s: np.ndarray,
    window_s: tuple[float, float],
    t_ref_k: float = T_TWENTY_C_K,
) -> Measurement:
    """The measurement of ``step`` from its flow samples (mol/s, NaN where none was read)."""
    flow = MODELS[bench.instruments[bench.channels[step.channel].instrument].model].flow
    assert flow is not None  # check() held the channel to a flow controller
    pv = R_GAS * t_ref_k  # Pa·m³ per mol at the reference temperature
    line = fit_line(np.asarray(times_s, dtype=np.float64), np.asarray(flows_mol_s, dtype=np.float64) * pv)
    mean = float(np.nanmean(flows_mol_s)) * pv
    sse = line.residual_std**2 * max(line.n - 2, 0)
    stderr_mean = math.sqrt(sse / (max(line.n_eff - 2.0, 1.0) * line.n))
    volume_m3 = bench.volumes[step.volume].size_m3
    # The mean as the equivalent decay from the held pressure: leak rate = −V·slope = mean.
    equivalent = replace(
        line,
        y0=step.hold_pa,
        intercept_rel=0.0,
        slope=-mean / volume_m3,
        slope_stderr=stderr_mean / volume_m3,
    )
    step_pv = flow.resolution_sccm * flow.mol_s_per_sccm * pv
    terms = {
        "fit": stderr_mean,
        "meter_accuracy": flow.accuracy_bound_mol_s(mean / pv) * pv / SQRT3,
        "resolution": step_pv / SQRT3,
    }
    budget = Budget(terms, meter_floor_pa_m3_s(flow, t_ref_k))
    fit = DecayFit(equivalent, volume_m3, t_ref_k, METHOD_FLOW, type_b_pa_m3_s=budget.type_b)
    entry = decay_entry(fit, step.channel, window_s, 1.0, step.limit_pa_m3_s, False, budget, sealed=False)
    # A record's line is a pressure path on its channel; a flow channel has none to draw.
    entry = replace(entry, line=None)
    if (
        entry.outcome is not None
        and entry.outcome.decisive
        and mean >= SATURATED * flow.full_scale_mol_s * pv
    ):
        return entry.withdrawn(
            f"not held: {step.channel}'s controller ran at its full scale ({flow.full_scale_sccm:g} sccm) "
            "and could not hold the pressure, so its flow is not the leak (the volume still cooling, "
            "or a leak beyond the controller); settle longer or use a larger controller"
        )
    return _settled(entry, step.channel, line, budget.combined, int(np.size(flows_mol_s)))


def _settled(entry: Measurement, channel: str, line: LineFit, combined: float, samples: int) -> Measurement:
    """No verdict from a flow still drifting, nor a PASS from a window that misses its samples.

    A make-up flow that still falls (the fill's heat leaving) or rises over the window is no
    steady state: its mean is not the leak. It counts as drifting when the fitted line's slope is
    surely not zero (DRIFT_SIGMAS standard errors) and moves the flow across the window by more
    than the mean's whole standard uncertainty.
    """
    if entry.outcome is None or not entry.outcome.decisive:
        return entry
    drift = line.slope * line.duration
    sigmas = abs(line.slope) / line.slope_stderr if line.slope_stderr > 0.0 else math.inf
    if sigmas >= DRIFT_SIGMAS and abs(drift) > combined:
        return entry.withdrawn(
            f"{NOT_STEADY}: the make-up flow on {channel} moved {drift:+.3g} Pa·m³/s over the window "
            f"({sigmas:.0f} standard errors): the volume had not settled (the fill's heat, the loop); "
            "settle longer"
        )
    missing = samples - line.n
    if entry.outcome is Outcome.PASS and missing > MAX_MISSING_SHARE * samples:
        return entry.withdrawn(
            f"{INCOMPLETE}: {channel} read nothing for {missing} of the window's {samples} samples: "
            "a PASS needs the whole window"
        )
    return entry
