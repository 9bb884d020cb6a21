"""Mastering a differential test: the store, the arithmetic, and master → production runs.

In simulation the reference volume leaks a little to the room (Q_r): the head reads it as the
test side gaining, −Q_r·V_t/V_r, on a tight master and on every production part alike. The
master measures it, the store keeps it, and the production test subtracts it, its
uncertainty a term of the budget; with no valid master there is no verdict.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rig.analysis import fit_decay
from rig.analysis.budget import Budget
from rig.analysis.mastering import MASTER_TERM, offset_uncertainty, subtract_offset, with_offset_term
from rig.engine.masters import MasterOffset, MasterStore, MasterStoreError
from rig.outcome import Outcome
from tests.engine import sim_runs
from tests.engine.test_differential_verdicts import ATMOSPHERE_PA, START_PA, leaking

ARTICLE_LEAK_PA_M3_S = 5.0e-4
REFERENCE_LEAK_PA_M3_S = 2.0e-4
V_TEST_M3, V_REFERENCE_M3 = 1e-3, 2e-3


def offset(**changes: object) -> MasterOffset:
    base = MasterOffset(
        master="M-001",
        bench="vacuum_chamber_mockup",
        channel="dp_article",
        volume="article",
        offset_pa_m3_s=-1.0e-4,
        uncertainty_pa_m3_s=2.0e-6,
        duration_s=60.0,
        measured_at="2026-11-02T08:00:00+00:00",
        simulated=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_store_keeps_an_offset_whole_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    store = MasterStore(tmp_path, simulated=True)
    assert store.load("vacuum_chamber_mockup", "dp_article", "M-001") is None
    path = store.save(offset())
    assert path == tmp_path / "masters" / "vacuum_chamber_mockup" / "dp_article" / "M-001.json"
    assert store.load("vacuum_chamber_mockup", "dp_article", "M-001") == offset()
    store.save(offset(offset_pa_m3_s=-2.0e-4))  # replaced, atomically: no temporary left behind
    assert [p.name for p in path.parent.iterdir()] == ["M-001.json"]
    # A name is a file name, never a path: "../x" stays inside the store.
    assert store.path("b", "c", "../x").parent == tmp_path / "masters" / "b" / "c"
    with pytest.raises(MasterStoreError, match="measured on a simulated bench"):
        MasterStore(tmp_path, simulated=False).load("vacuum_chamber_mockup", "dp_article", "M-001")
    path.write_text(json.dumps({"master": "M-001"}))
    with pytest.raises(MasterStoreError, match="is not a master's offset"):
        store.load("vacuum_chamber_mockup", "dp_article", "M-001")
    path.write_text(json.dumps({**offset().to_json(), "offset_pa_m3_s": math.nan}))
    with pytest.raises(MasterStoreError, match="no finite offset"):
        store.load("vacuum_chamber_mockup", "dp_article", "M-001")
    assert offset().age_s(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)) == 3600.0


def test_an_offset_moves_the_rate_and_adds_its_own_term() -> None:
    t = np.arange(60.0)
    fit = fit_decay(t, 100.0 - 0.4 * t, volume_m3=V_TEST_M3)
    corrected = subtract_offset(fit, -1.0e-4)
    assert corrected.leak_rate_pa_m3_s == pytest.approx(fit.leak_rate_pa_m3_s + 1.0e-4)
    budget = with_offset_term(Budget({"fit": 3e-6, "volume": 4e-6}, 1e-8), 2e-6)
    assert budget.terms[MASTER_TERM] == 2e-6 and budget.combined == pytest.approx(math.sqrt(29e-12))
    # The rate-scaled terms scale the production's corrected rate, not the offset.
    assert offset_uncertainty(
        {"fit": 3e-6, "volume": 4e-6, "gauge_calibration": 1.0, "resolution": 4e-6}
    ) == (pytest.approx(5e-6))


def bench(tmp_path: Path) -> Path:
    """The mockup with article and reference closed at 2 bar, the article leaking
    ARTICLE_LEAK_PA_M3_S and the reference REFERENCE_LEAK_PA_M3_S, both into the room."""

    def edit(text: str) -> str:
        for volume in ("article", "reference"):
            start = f"thermal_tau: 60 s, initial_pressure: {START_PA:g} Pa"
            text = text.replace(f"    {volume}: {{thermal_tau: 60 s}}", f"    {volume}: {{{start}}}")
        conductance = REFERENCE_LEAK_PA_M3_S / (START_PA - ATMOSPHERE_PA)
        leak = f"kind: molecular, conductance: {conductance!r} m**3/s"
        reference = f"    - {{between: [reference, atmosphere], {leak}}}\n"
        return leaking(text, ARTICLE_LEAK_PA_M3_S).replace("  actions:\n", reference + "  actions:\n")

    return sim_runs.variant(tmp_path, sim_runs.MOCKUP, edit, "mastering.yaml")


def procedure(tmp_path: Path, bench_path: Path, name: str, step: str, master: bool = False) -> Path:
    path = tmp_path / f"{name}.yaml"
    install = "  - prompt: {message: install the master, action: install_master}\n" if master else ""
    path.write_text(
        f"procedure: {name}\nversion: 1\nbench: {bench_path}\nsample_period: 1 s\nmain:\n{install}"
        # The leaks start with the run (or stop when the master goes in): the gas they cool
        # settles with the walls (τ = 60 s) before the measurement.
        f"  - wait: {{duration: 5 min}}\n  - {step}\n"
    )
    return path


MEASURE = "channel: dp_article, volume: article, duration: 1 min"


def test_a_master_sets_the_offset_the_production_test_subtracts(tmp_path: Path) -> None:
    bench_path = bench(tmp_path)
    production = procedure(
        tmp_path,
        bench_path,
        "production",
        f"measure_differential: {{name: part, {MEASURE}, limit: 0.5 sccm, master: M-001, max_age: 1 h}}",
    )
    # No master yet: measured, but no verdict, and the reason says so.
    first = sim_runs.run(tmp_path, production, seed=1).outcome.measurements["part"]
    assert first.outcome is Outcome.INCONCLUSIVE and first.refusal is not None
    assert first.refusal.startswith("no master: 'M-001' has never been measured on dp_article")
    raw = first.value_pa_m3_s
    assert raw is not None

    master = procedure(
        tmp_path,
        bench_path,
        "master",
        f"master_differential: {{name: master, master: M-001, {MEASURE}, limit: 3e-4 Pa*m**3/s}}",
        master=True,
    )
    mastered = sim_runs.run(tmp_path, master, seed=2).outcome.measurements["master"]
    assert mastered.outcome is Outcome.PASS, mastered
    kept = MasterStore(tmp_path / "data", simulated=True).load("vacuum_chamber_mockup", "dp_article", "M-001")
    assert kept is not None and kept.offset_pa_m3_s == mastered.value_pa_m3_s
    # The reference's leak reads as the test side gaining: −Q_r·V_t/V_r.
    expected_offset = -REFERENCE_LEAK_PA_M3_S * V_TEST_M3 / V_REFERENCE_M3
    assert kept.offset_pa_m3_s == pytest.approx(expected_offset, rel=0.05)

    part = sim_runs.run(tmp_path, production, seed=1).outcome.measurements["part"]
    assert part.outcome is Outcome.PASS, part
    assert part.value_pa_m3_s == pytest.approx(raw - kept.offset_pa_m3_s, rel=1e-9)
    assert part.value_pa_m3_s == pytest.approx(ARTICLE_LEAK_PA_M3_S, rel=0.05)
    assert part.uncertainty is not None and part.uncertainty.terms[MASTER_TERM] == kept.uncertainty_pa_m3_s
    # The line drawn over the samples is the one they were fitted with, before the offset.
    assert part.line is not None and first.line is not None
    assert part.line.slope_pa_s == pytest.approx(first.line.slope_pa_s, rel=1e-9)

    # A master older than max_age sets nothing.
    store_file = MasterStore(tmp_path / "data", simulated=True).path(
        "vacuum_chamber_mockup", "dp_article", "M-001"
    )
    stale = {**kept.to_json(), "measured_at": "2020-01-01T00:00:00+00:00"}
    store_file.write_text(json.dumps(stale))
    late = sim_runs.run(tmp_path, production, seed=1).outcome.measurements["part"]
    assert late.outcome is Outcome.INCONCLUSIVE and late.refusal is not None and "max_age" in late.refusal


def test_the_shipped_pair_runs_master_first_then_production(tmp_path: Path) -> None:
    before = sim_runs.run(tmp_path, "differential_decay", seed=4).outcome
    assert before.verdict.value == "INCONCLUSIVE"
    assert before.measurements["differential"].refusal is not None
    assert before.measurements["differential"].refusal.startswith("no master")
    # The run's reason says why, not "test longer": no length of test stands in for the master.
    assert before.reason.startswith("not decisive: differential: no master"), before.reason
    master = sim_runs.run(tmp_path, "master_differential", seed=4).outcome
    assert master.verdict.value == "PASS", master.reason
    production = sim_runs.run(tmp_path, "differential_decay", seed=4).outcome
    assert production.verdict.value == "PASS", production.reason
    entry = production.measurements["differential"]
    # The seal's 5 µm hole at about 1.85 bar, as the absolute decay of pressure_decay.yaml reads it.
    assert entry.value_pa_m3_s is not None and 4.0e-4 < entry.value_pa_m3_s < 6.0e-4
    assert entry.uncertainty is not None and MASTER_TERM in entry.uncertainty.terms
