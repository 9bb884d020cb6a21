"""Differential decay verdicts with drifting absolute readings, in seeded simulations of the mockup.

The article and the reference start closed at 2 bar, both 2 K warmer than their walls and
cooling (a common-mode thermal drift of about 1.1 Pa/s at the start), and the article's
absolute gauge zero drifts linearly at ±1800 Pa/h (0.5 Pa/s, declared as its stability), with a
random walk on top. The seal's leak is replaced by
a molecular conductance set to the exact rate wanted. Over 20 seeds each, the differential
head (p(article) − p(reference)) never FAILs a tight article (0.5 × the limit) and never
PASSes a leaking one (2 × the limit), and reads the leak to a tenth of the limit: what drifts
alike on both sides cancels. The same run's plain ``measure_decay`` on the absolute gauge
reads the drifts as a leak (V·(p/T)·dT/dt, and the gauge's zero): more than half the limit over
the true rate; with the declared zero drift in its budget it never FAILs the tight article nor
PASSes the leaking one (it cannot decide either).

:func:`drifting` is the one place the drift is configured.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rig.outcome import Outcome
from tests.engine import sim_runs

LIMIT_PA_M3_S = 8.45e-4  # 0.5 sccm at 0 °C
START_PA = 200000.0
ATMOSPHERE_PA = 101325.0
SEEDS = range(20)
WINDOW = "2 min"

pytestmark = pytest.mark.integration


# The article's gauge zero drifts linearly at its declared stability: 0.5 Pa/s (1800 Pa/h) reads
# as 5e-4 Pa·m³/s in 1 L, more than half the limit, either sign.
DECLARED_PA_H = 1800.0


def drifting(text: str, zero_rate_pa_h: float) -> str:
    """The mockup with drifting absolute readings: the article's gauge zero drifts linearly at
    ``zero_rate_pa_h`` (declared as its stability, so the plain decay's budget carries it) on top
    of a small random walk, and the article and reference start 2 K above their walls, cooling
    together (common mode)."""
    gauge = "p_article: {type: CMR, min: 0.01 Pa, max: 266 kPa, accuracy: 0.0025, noise: 0.3 Pa, "
    assert gauge + "resolution: 0.01 Pa, drift: 0.002 Pa}" in text
    text = text.replace(
        gauge + "resolution: 0.01 Pa, drift: 0.002 Pa}",
        gauge + f"resolution: 0.01 Pa, drift: 0.05 Pa, zero_drift: {{rate: {zero_rate_pa_h!r} Pa/h}}}}",
    )
    declared = "zero_stability: 1 Pa/h, zero_temperature_coefficient: 10 Pa/K}"
    assert "volume: article, " + declared in text
    text = text.replace(
        "volume: article, " + declared,
        "volume: article, "
        f"zero_stability: {abs(zero_rate_pa_h)!r} Pa/h, zero_temperature_coefficient: 0 Pa/K}}",
    )
    warm = f"thermal_tau: 60 s, initial_pressure: {START_PA:g} Pa, initial_temperature: 22 degC"
    for volume in ("article", "reference"):
        text = text.replace(f"    {volume}: {{thermal_tau: 60 s}}", f"    {volume}: {{{warm}}}")
    return text


def leaking(text: str, rate_pa_m3_s: float) -> str:
    """The article's seal replaced by a conductance leaking ``rate_pa_m3_s`` into the chamber at the start."""
    conductance = rate_pa_m3_s / (START_PA - ATMOSPHERE_PA)
    seal = re.compile(r"    - \{name: seal, between: \[article, chamber\], kind: orifice[^\n]*\}")
    assert seal.search(text)
    leak = f"kind: molecular, conductance: {conductance!r} m**3/s"
    text = seal.sub(f"    - {{name: seal, between: [article, chamber], {leak}}}", text)
    # The bench's operator actions resize the orifice; on a conductance they can only seal it.
    return re.sub(r"\{leak: seal, diameter: [^}]*\}", "{leak: seal, sealed: true}", text)


def procedure(tmp_path: Path, bench: Path) -> Path:
    """A plain decay on the absolute gauge, then the differential decay: one run, both methods."""
    common = f"channel: p_article, volume: article, duration: {WINDOW}, limit: {LIMIT_PA_M3_S} Pa*m**3/s"
    path = tmp_path / "both.yaml"
    path.write_text(
        f"""procedure: differential_verdicts
version: 1
bench: {bench}
sample_period: 1 s
main:
  - measure_decay: {{name: decay, {common}}}
  - measure_differential: {{name: differential, {common.replace("p_article", "dp_article")}}}
"""
    )
    return path


# One test a leak and a drift direction: the same 40 runs, spread over the workers.
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["zero-up", "zero-down"])
@pytest.mark.parametrize("factor", [0.5, 2.0], ids=["half-the-limit", "twice-the-limit"])
def test_drift_cancels_in_the_difference_and_biases_a_plain_decay(
    tmp_path: Path, factor: float, sign: float
) -> None:
    rate = factor * LIMIT_PA_M3_S
    zero_rate = sign * DECLARED_PA_H
    bench = sim_runs.variant(
        tmp_path,
        sim_runs.MOCKUP,
        lambda t: leaking(drifting(t, zero_rate), rate),
        f"b{factor}{sign:+.0f}.yaml",
    )
    path = procedure(tmp_path, bench)
    # Ten seeds with the zero drifting up, ten with it drifting down.
    for seed in SEEDS[:10] if sign > 0 else SEEDS[10:]:
        outcome = sim_runs.run(tmp_path / f"{factor}-{seed}", path, seed=seed).outcome
        differential = outcome.measurements["differential"]
        decay = outcome.measurements["decay"]
        assert differential.value_pa_m3_s is not None and decay.value_pa_m3_s is not None
        # Drift cancelled: the head sees the leak to within a tenth of the limit, and decides.
        assert abs(differential.value_pa_m3_s - rate) < 0.1 * LIMIT_PA_M3_S, (
            factor,
            seed,
            differential,
        )
        wrong, right = (Outcome.FAIL, Outcome.PASS) if factor < 1.0 else (Outcome.PASS, Outcome.FAIL)
        assert differential.outcome is right, (factor, seed, differential)
        # The plain decay reads the drifts as a leak (the common-mode cooling alone more than
        # half the limit); with the declared zero drift in its budget it is never wrong either.
        assert decay.value_pa_m3_s - rate > 0.5 * LIMIT_PA_M3_S, (factor, seed, decay)
        assert decay.outcome is not wrong, (factor, seed, decay)
        assert decay.outcome is not Outcome.PASS, (factor, seed, decay)
        assert decay.uncertainty is not None and differential.uncertainty is not None
        assert "zero_drift" in decay.uncertainty.terms and "zero_drift" in differential.uncertainty.terms
