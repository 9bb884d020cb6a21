"""Declared zero stability: the model's datasheet figure, the channel's keys, the certificate's (it wins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.models import MODELS
from rig.bench import load_bench
from rig.bench_gauges import zero_rate_bound_pa_s, zero_stability
from rig.engine.type_b import type_b_for
from rig.located_yaml import LocatedError
from tests.engine import sim_runs

CERTIFICATE = "certificate: CMR-361-CAL-2026-117, date: 2026-05-04, due: 2027-05-04, uncertainty: 0.15 %"


def test_the_mockup_declares_its_article_gauge() -> None:
    bench = load_bench(sim_runs.MOCKUP)
    drift, tempco = zero_stability(bench, "p_article")
    assert drift == pytest.approx(1.0 / 3600.0)
    assert tempco == pytest.approx(10.0)
    # 0.5 K/h of ambient (the bench's default temperature drift bound) at 10 Pa/K: 5 Pa/h more.
    assert zero_rate_bound_pa_s(bench, "p_article") == pytest.approx(6.0 / 3600.0)
    type_b = type_b_for(bench, "p_article", ("article",), "t_article", 2e5)
    assert type_b.zero_rate_pa_s == pytest.approx(6.0 / 3600.0)


def test_an_undeclared_gauge_takes_its_models_datasheet_figures() -> None:
    bench = load_bench(sim_runs.MOCKUP)
    model = MODELS["MKS937B"]
    assert zero_stability(bench, "p_reference") == (
        model.zero_stability_pa_s,
        model.zero_temperature_coefficient_pa_k,
    )
    # 0.005 %FS/K of a 1000 Torr Baratron.
    assert model.zero_temperature_coefficient_pa_k == pytest.approx(5e-5 * 133322.0)


def test_the_certificates_figure_wins(tmp_path: Path) -> None:
    path = sim_runs.variant(
        tmp_path,
        sim_runs.MOCKUP,
        lambda t: t.replace(
            CERTIFICATE, f"{CERTIFICATE}, zero_stability: 0.5 Pa/h, zero_temperature_coefficient: 2 Pa/K"
        ),
    )
    assert zero_stability(load_bench(path), "p_article") == pytest.approx((0.5 / 3600.0, 2.0))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("zero_stability: 1 Pa/h", "zero_stability: -1 Pa/h", "a zero stability bound cannot be negative"),
        ("zero_stability: 1 Pa/h", "zero_stability: 1 Pa", "'1 Pa' is not a pressure drift"),
        (
            "zero_temperature_coefficient: 10 Pa/K",
            "zero_temperature_coefficient: 10 Pa",
            "not a pressure per temperature",
        ),
        (CERTIFICATE, f"{CERTIFICATE}, zero_stability: 2 K/h", "is not a pressure drift"),
    ],
)
def test_mistakes_are_located(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = sim_runs.variant(tmp_path, sim_runs.MOCKUP, lambda t: t.replace(old, new, 1))
    with pytest.raises(LocatedError, match=rf"bench\.yaml:\d+:\d+: .*{message}"):
        load_bench(path)


def test_a_thermometers_certificate_has_no_zero_stability(tmp_path: Path) -> None:
    old = "TC-K-CAL-2026-208, date: 2026-06-15, due: 2027-06-15, uncertainty: 0.2 K"
    path = sim_runs.variant(
        tmp_path, sim_runs.MOCKUP, lambda t: t.replace(old, f"{old}, zero_stability: 1 Pa/h")
    )
    with pytest.raises(LocatedError, match=r"a zero's stability is a pressure gauge's"):
        load_bench(path)


def test_a_differential_head_takes_the_class_figures_on_its_own_full_scale() -> None:
    """A head read through a DAQ: the DAQ has no zero, the head does (0.005 %FS/K of its 1000 Pa)."""
    bench = load_bench(sim_runs.MOCKUP)
    assert MODELS["DAQ970A"].zero_temperature_coefficient_pa_k == 0.0
    drift, tempco = zero_stability(bench, "dp_article")
    assert tempco == pytest.approx(5e-5 * 1000.0)
    assert drift > 0.0
    type_b = type_b_for(bench, "dp_article", ("article",), None, 0.0)
    assert type_b.zero_rate_pa_s > 0.0
