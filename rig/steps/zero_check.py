"""``zero_check``: read a gauge against a known pressure; two checks bound its zero's drift between them.

The known pressure is the pump's base pressure (``against: vacuum``: the volume pumped down,
its true pressure between 0 and a stated ``below`` bound, or what a ``reference`` gauge on the
same gas reads) or the atmosphere (``against: atmosphere``: the volume vented, the bench's
``atmosphere: {pressure, uncertainty}``, or a ``reference`` gauge such as a barometer). The
gauge is read over ``duration`` (30 s unless told) and its median taken (robust to the readings
under its range near zero); its offset from the reference, with its standard uncertainty (the
median's scatter, the gauge's step, the reference's), is listed under ``zero_checks`` in
``results.json``.

Placed before and after a measurement (twice, on the same gauge), the second check amends the
measurements fitted on that gauge between the two (:mod:`rig.engine.zero_checks`): their
``zero_drift`` term comes from the drift observed when it is worse than the declared one, and a
drift beyond the gauge's declared stability makes them INCONCLUSIVE, the drift named in their
``refusal``. One check alone amends nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from rig.bench import BenchSpec
from rig.bench_gauges import display_step_pa, sensor_accuracy, sensor_floor, zero_rate_bound_pa_s
from rig.engine.zero_checks import ZeroReading, amended, between, observed_drift
from rig.steps.base import Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, PRESSURE, TIME, choice, step_field

DEFAULT_DURATION_S = 30.0
SQRT3 = math.sqrt(3.0)
# Where the checks are listed in results.json.
FINDING = "zero_checks"


@dataclass(frozen=True, kw_only=True)
class ZeroCheck(Step):
    """Read ``channel`` over ``duration_s`` against vacuum or the atmosphere; find its zero's offset."""

    kind: ClassVar[str] = "zero_check"
    bound_field: ClassVar[str | None] = "duration"

    channel: str = step_field("channel", CHANNEL_REF)
    against: Literal["vacuum", "atmosphere"] = step_field("against", choice("vacuum", "atmosphere"))
    given_duration_s: float | None = step_field("duration", TIME, optional=True)
    below_pa: float | None = step_field("below", PRESSURE, optional=True)
    reference: str | None = step_field("reference", CHANNEL_REF, optional=True)

    @property
    def duration_s(self) -> float:
        """How long it reads the gauge: its ``duration``, or 30 s."""
        return self.given_duration_s if self.given_duration_s is not None else DEFAULT_DURATION_S

    def check(self, ctx: CheckContext) -> None:
        """Pressure gauges only; at vacuum, something must bound the true pressure; a mean needs samples."""
        bench = ctx.bench
        for attr in ("channel", "reference"):
            name = getattr(self, attr)
            spec = bench.channels.get(name) if bench is not None and ctx.has(attr) else None
            if spec is not None and spec.measures != "pressure":
                ctx.refuse(attr, f"{name!r} measures {spec.measures}, not pressure")
        if (
            ctx.has("against")
            and self.against == "vacuum"
            and self.below_pa is None
            and self.reference is None
        ):
            ctx.refuse(
                "against",
                "a zero check against vacuum needs what bounds the true pressure: `below: 1 Pa` (the pump's "
                "base pressure is under it) or `reference: <another gauge on the same gas>`",
            )
        if ctx.has("given_duration_s") and self.duration_s < 2.0 * ctx.sample_period_s:
            ctx.refuse(
                "given_duration_s", f"a mean needs two samples at least: {2.0 * ctx.sample_period_s:g} s"
            )

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its averaging window, nominally and at the longest."""
        return self.duration_s, self.duration_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its gauge, and the reference gauge if it names one."""
        return (self.channel,) if self.reference is None else (self.channel, self.reference)

    def run(self, ctx: StepContext) -> None:
        """Average, find the offset, and amend what was measured since this gauge's previous check."""
        start = ctx.now()
        ctx.hold(self.duration_s)
        reading = self._reading(ctx, start)
        checks = ctx.findings.setdefault(FINDING, [])
        previous = next(
            (ZeroReading.from_json(c) for c in reversed(checks) if c.get("channel") == self.channel), None
        )
        checks.append(reading.to_json())
        offset = "nothing usable" if reading.offset_pa is None else f"{reading.offset_pa:+.4g} Pa"
        ctx.event(
            "zero_check",
            f"{self.channel} against {self.against}: offset {offset} (u {reading.uncertainty_pa:.2g} Pa)",
            channel=self.channel,
            against=self.against,
            offset_pa=reading.offset_pa,
            uncertainty_pa=reading.uncertainty_pa,
            n=reading.n,
        )
        if previous is not None:
            self._amend(ctx, previous, reading)

    def _reading(self, ctx: StepContext, start: float) -> ZeroReading:
        bench = ctx.bench
        _, p, _ = ctx.series.window(self.channel, start)
        mean, u_mean, n = _median(p, sensor_floor(bench, self.channel)[1])
        if mean is None:
            return ZeroReading(self.channel, self.against, ctx.now(), None, math.inf, n)
        resolution = max(
            sensor_floor(bench, self.channel, mean)[0],
            display_step_pa(bench.instruments[bench.channels[self.channel].instrument].model, mean),
        )
        reference_pa, u_reference = self._reference(ctx, start)
        if reference_pa is None:
            return ZeroReading(self.channel, self.against, ctx.now(), None, math.inf, n)
        # A step of the gauge is uniform over ±step/2: step/√12.
        u = math.sqrt(u_mean**2 + resolution**2 / 12.0 + u_reference**2)
        return ZeroReading(self.channel, self.against, ctx.now(), mean - reference_pa, u, n)

    def _reference(self, ctx: StepContext, start: float) -> tuple[float | None, float]:
        """The true pressure during the check, and its standard uncertainty (Pa)."""
        bench = ctx.bench
        if self.reference is not None:
            _, p, _ = ctx.series.window(self.reference, start)
            mean, u_mean, _ = _median(p, sensor_floor(bench, self.reference)[1])
            if mean is None:
                return None, math.inf
            # The reference gauge's accuracy is a bound on its reading (rectangular).
            accuracy = sensor_accuracy(bench, self.reference) * abs(mean) / SQRT3
            return mean, math.hypot(u_mean, accuracy)
        if self.against == "vacuum":
            below = self.below_pa or 0.0
            # Anywhere between 0 and the bound, nothing more known: rectangular over [0, below].
            return below / 2.0, below / (2.0 * SQRT3)
        return bench.atmosphere_pa, bench.atmosphere_uncertainty_pa / SQRT3

    def _amend(self, ctx: StepContext, first: ZeroReading, second: ZeroReading) -> None:
        bench = ctx.bench
        drift = observed_drift(first, second)
        declared = zero_rate_bound_pa_s(bench, self.channel)
        volume = bench.channels[self.channel].volume
        for name, entry in list(ctx.measurements.items()):
            if not between(entry, first, second):
                continue
            size = entry.volume_m3
            if size is None:
                size = bench.volumes[volume].size_m3 if volume is not None else 0.0
            changed = amended(entry, drift, first, second, size, declared)
            if changed != entry:
                ctx.record(name, changed)


def _median(p: np.ndarray, noise_pa: float) -> tuple[float | None, float, int]:
    """(median, its standard uncertainty, samples) of ``p``, a sample that read nothing counted as below.

    A gauge near its zero reads under its range whenever its noise takes it below: those samples
    are not missing at random, they are the low ones. Counted as below every reading, they leave
    the median where it is as long as they are fewer than half (the mean of the rest would be
    biased up); with half or more, the zero is not found (None). The median's standard
    uncertainty is √(π/2)·σ/√n, σ the larger of the gauge's stated noise and the spread of the
    upper half's readings.
    """
    n = int(p.size)
    below = ~np.isfinite(p)
    if n < 2 or 2 * int(below.sum()) >= n:
        return None, math.inf, n
    ordered = np.sort(np.where(below, -np.inf, p))
    median = float(np.median(ordered))
    # The 84th percentile is 1 σ above the median of a normal spread, and is a reading.
    upper = float(np.percentile(ordered, 84.13))
    sigma = max(noise_pa, upper - median if math.isfinite(upper) else 0.0)
    return median, math.sqrt(math.pi / 2.0) * sigma / math.sqrt(n), n
