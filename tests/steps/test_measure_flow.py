"""``measure_flow``: what the validator refuses, located, and the statistics of its mean.

The procedure and bench are the shipped ``flow_leak_test.yaml`` on ``flow_bench.yaml`` (an Alicat
MC-10SCCM feeding a 1 L article), edited one field at a time; ``rig validate`` must exit 2 with
the problem at the edited field.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drivers.models import MODELS
from rig.bench import load_bench
from rig.outcome import Outcome
from rig.steps.measure_flow import MeasureFlow, flow_entry, meter_floor_pa_m3_s
from rig.units import R_GAS, T_TWENTY_C_K

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "flow_bench.yaml"
PROCEDURE = ROOT / "procedures" / "flow_leak_test.yaml"
STEP = "measure_flow: {name: make_up, channel: f_article, volume: article, hold: 2 bar"
PV = R_GAS * T_TWENTY_C_K  # Pa·m³ per mol at the reference temperature


def validate(
    tmp_path: Path, procedure_edit: tuple[str, str] = ("", ""), bench_edit: tuple[str, str] = ("", "")
) -> tuple[int, str, str]:
    bench_text = BENCH.read_text().replace(*bench_edit) if bench_edit[0] else BENCH.read_text()
    (tmp_path / "bench.yaml").write_text(bench_text)
    text = PROCEDURE.read_text().replace("benches/flow_bench.yaml", "bench.yaml")
    if procedure_edit[0]:
        assert procedure_edit[0] in text
        text = text.replace(*procedure_edit)
    path = tmp_path / "procedure.yaml"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "rig", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr, text


def located(stderr: str, text: str, fragment: str) -> None:
    """One problem line, at ``fragment`` of the procedure."""
    (line,) = stderr.strip().splitlines()
    row, col = (int(x) for x in line.split(":")[1:3])
    assert text.splitlines()[row - 1][col - 1 :].startswith(fragment), line


def test_the_shipped_step_is_valid(tmp_path: Path) -> None:
    code, stderr, _ = validate(tmp_path)
    assert code == 0, stderr


def test_a_pressure_channel_is_refused(tmp_path: Path) -> None:
    code, stderr, text = validate(tmp_path, (STEP, STEP.replace("f_article", "p_article")))
    assert code == 2 and "measures pressure: measure_flow reads a flow channel" in stderr
    located(stderr, text, "p_article")


def test_a_meter_cannot_hold_a_pressure(tmp_path: Path) -> None:
    bench_edit = ("model: AlicatMC-10SCCM", "model: AlicatM-10SCCM")
    text = BENCH.read_text().replace(*bench_edit)
    text = text.replace("  flow_controllers:\n    mfc: {supply: line, time_constant: 3 s}\n", "")
    (tmp_path / "meter.yaml").write_text(text)
    code, stderr, procedure = validate(tmp_path, ("bench: bench.yaml", "bench: meter.yaml"))
    assert code == 2 and "a AlicatM-10SCCM meter: holding a pressure needs a controller" in stderr
    located(stderr, procedure, "f_article")


def test_a_hold_beyond_the_benchs_limits_is_refused(tmp_path: Path) -> None:
    code, stderr, text = validate(tmp_path, (STEP, STEP.replace("hold: 2 bar", "hold: 4 bar")))
    assert code == 2 and "outside the bench's limits" in stderr
    located(stderr, text, "4 bar")


def test_a_volume_the_controller_does_not_feed_is_refused(tmp_path: Path) -> None:
    code, stderr, text = validate(
        tmp_path,
        (STEP, STEP.replace("volume: article", "volume: spare")),
        (
            "  article: {size: 1 L, uncertainty: 0.01 L}\n",
            "  article: {size: 1 L, uncertainty: 0.01 L}\n  spare: {size: 1 L}\n",
        ),
    )
    assert code == 2 and "'mfc' feeds 'article', not 'spare'" in stderr
    located(stderr, text, "spare")


def test_a_limit_below_what_the_meter_resolves_is_refused(tmp_path: Path) -> None:
    # A 100 sccm meter's zero is known to ±0.2 sccm: a 0.5 sccm limit needs ten times better.
    code, stderr, text = validate(tmp_path, bench_edit=("AlicatMC-10SCCM", "AlicatMC-100SCCM"))
    assert code == 2 and "cannot be resolved by a meter of 100 sccm full scale" in stderr
    located(stderr, text, "0.5 sccm")


def step(limit: float | None = 9.062e-4) -> MeasureFlow:
    return MeasureFlow(
        name="make_up", channel="f_article", volume="article", hold_pa=2e5, settle_s=60.0, duration_s=600.0,
        limit_pa_m3_s=limit,
    )  # fmt: skip


def ar1(n: int, rho: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) noise of stationary standard deviation ``sigma``."""
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    innovation = sigma * math.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + rng.normal(0.0, innovation)
    return out


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_the_spread_of_the_mean_counts_the_samples_correlation(rho: float) -> None:
    bench = load_bench(BENCH)
    n, sigma, true_mol_s = 600, 1e-8, 2e-7
    rng = np.random.default_rng(7)
    fits = []
    for _ in range(40):
        flows = true_mol_s + ar1(n, rho, sigma, rng)
        entry = flow_entry(bench, step(), np.arange(n, dtype=float), flows, (0.0, n - 1.0))
        assert entry.uncertainty is not None
        fits.append((entry.value_pa_m3_s, entry.uncertainty.terms["fit"]))
    values, stderrs = np.array(fits).T
    expected = sigma * math.sqrt((1.0 + rho) / (1.0 - rho) / n) * PV
    assert np.median(stderrs) == pytest.approx(expected, rel=0.25)
    # And it is the means' real scatter.
    assert np.std(values) == pytest.approx(expected, rel=0.35)


def test_the_meters_accuracy_is_a_rectangular_type_b_term_and_the_verdict_uses_it() -> None:
    bench = load_bench(BENCH)
    declared = MODELS[bench.instruments["mfc"].model].flow
    assert declared is not None
    n = 300
    mean_mol_s = 5.0 * declared.mol_s_per_sccm  # 5 sccm: ten times the limit
    flows = np.full(n, mean_mol_s) + np.random.default_rng(1).normal(0.0, 1e-9, n)
    entry = flow_entry(bench, step(), np.arange(n, dtype=float), flows, (0.0, n - 1.0))
    assert entry.uncertainty is not None
    bound = (0.008 * abs(float(np.mean(flows))) + 0.002 * declared.full_scale_mol_s) * PV
    assert entry.uncertainty.terms["meter_accuracy"] == pytest.approx(bound / math.sqrt(3.0), rel=1e-9)
    assert entry.value_pa_m3_s == pytest.approx(float(np.mean(flows)) * PV)
    assert entry.outcome is Outcome.FAIL
    assert entry.e2930 is not None and entry.e2930.met
    assert entry.e2930.test_resolution_pa_m3_s == pytest.approx(meter_floor_pa_m3_s(declared))
    # No limit: measured, not judged.
    assert (
        flow_entry(bench, step(None), np.arange(n, dtype=float), flows, (0.0, n - 1.0)).outcome
        is Outcome.MEASURED
    )


def test_a_flow_still_drifting_gives_no_verdict() -> None:
    bench = load_bench(BENCH)
    n = 300
    t = np.arange(n, dtype=float)
    # The fill's heat still leaving: the make-up flow falls from 3 to 1 sccm over the window.
    sccm = 6.8123e-7
    flows = (3.0 - 2.0 * t / n) * sccm + np.random.default_rng(2).normal(0.0, 1e-9, n)
    entry = flow_entry(bench, step(), t, flows, (0.0, n - 1.0))
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None and entry.refusal.startswith("not steady: the make-up flow on f_article")


def test_a_controller_at_its_full_scale_held_nothing() -> None:
    bench = load_bench(BENCH)
    declared = MODELS["AlicatMC-10SCCM"].flow
    assert declared is not None
    n = 300
    flows = np.full(n, declared.full_scale_mol_s) + np.random.default_rng(3).normal(0.0, 1e-9, n)
    entry = flow_entry(bench, step(), np.arange(n, dtype=float), flows, (0.0, n - 1.0))
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None and entry.refusal.startswith(
        "not held: f_article's controller ran at its full scale"
    )


def test_a_window_missing_its_samples_gives_no_pass() -> None:
    bench = load_bench(BENCH)
    n = 300
    flows = np.full(n, 1e-9) + np.random.default_rng(4).normal(0.0, 1e-9, n)
    flows[:60] = np.nan
    entry = flow_entry(bench, step(), np.arange(n, dtype=float), flows, (0.0, n - 1.0))
    assert entry.outcome is Outcome.INCONCLUSIVE
    assert entry.refusal is not None and entry.refusal.startswith("incomplete: f_article read nothing for 60")
