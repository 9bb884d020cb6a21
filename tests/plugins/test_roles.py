"""Roles: every model's driver has its role's methods, and one that lacks a method is refused by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.catalog import KEYSIGHT_DAQ, MKS_937B, PFEIFFER_TPG36X
from drivers.models import MODELS, InstrumentModel, register
from drivers.registry import driver_class
from drivers.roles import ROLE_PROTOCOLS, PressureGauge, missing_methods, role_problem
from drivers.tpg36x import Tpg36x
from rig.bench import load_bench
from rig.cli import main
from rig.clock import VirtualClock
from rig.engine.session import InstrumentUnavailableError, RigSession
from rig.sim.simulated_rig import SimulatedRig

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"


class HalfTpg(Tpg36x):
    """A TPG driver that lost its ``read_all``: it cannot serve as a pressure gauge of the rig."""

    read_all = None  # type: ignore[assignment]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_installed_model_s_driver_has_every_method_of_its_role(model: str) -> None:
    kind = MODELS[model].kind
    assert missing_methods(driver_class(model), kind) == []
    assert ROLE_PROTOCOLS[kind]


def test_our_three_families_are_gauges_and_daqs() -> None:
    assert {m.kind for m in (*PFEIFFER_TPG36X, *MKS_937B)} == {"gauge"}
    assert {m.kind for m in KEYSIGHT_DAQ} == {"daq"}
    assert issubclass(Tpg36x, PressureGauge)  # structural: no base class of ours needed


def test_a_driver_lacking_a_method_of_its_role_is_named() -> None:
    assert missing_methods(HalfTpg, "gauge") == ["read_all"]
    assert role_problem(HalfTpg, "HalfTPG", "gauge") == (
        "the HalfTPG driver HalfTpg lacks read_all (a gauge has them)"
    )
    assert role_problem(Tpg36x, "TPG362", "gauge") is None


@pytest.fixture
def half_tpg() -> Iterator[str]:
    register(
        [
            InstrumentModel(
                "HalfTPG",
                "gauge",
                driver=f"{__name__}:HalfTpg",
                simulator="rig.sim.server_factories:tpg",
                gauge_channels=2,
                display_digits=5,
            )
        ]
    )
    try:
        yield "HalfTPG"
    finally:
        del MODELS["HalfTPG"]


def test_the_session_and_the_probe_refuse_it_before_any_reading(half_tpg: str, tmp_path: Path) -> None:
    path = tmp_path / "half.yaml"
    path.write_text(BENCH.read_text().replace("gauges: {model: TPG362}", f"gauges: {{model: {half_tpg}}}"))
    bench = load_bench(path)
    with SimulatedRig(bench, VirtualClock(), seed=1) as rig:
        resources = {name: entry["resource"] for name, entry in rig.resources().items()}
        with pytest.raises(InstrumentUnavailableError) as refused:
            RigSession(bench, resources)
    assert str(refused.value) == "gauges: the HalfTPG driver HalfTpg lacks read_all (a gauge has them)"

    assert main(["instruments", "probe", "--sim", "--bench", str(path), "--json"]) == 3


def test_the_readme_lists_every_model_we_ship() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Supported instruments") :]
    table = table[: table.index("\n### ")]
    listed = {cell.strip("`") for cell in re.findall(r"`[^`\s]+`", table)}
    ours = {name for name, model in MODELS.items() if model.driver.startswith("drivers.")}
    assert ours <= listed, f"missing from README's Supported instruments: {sorted(ours - listed)}"


@pytest.fixture
def real_only() -> Iterator[str]:
    """A model with a driver and no simulated server (a plugin may bring one like that)."""
    register([InstrumentModel("RealOnlyTPG", "gauge", driver="drivers.tpg36x:Tpg36x", gauge_channels=2)])
    try:
        yield "RealOnlyTPG"
    finally:
        del MODELS["RealOnlyTPG"]


def test_a_model_without_a_simulator_refuses_sim_in_one_line(
    real_only: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "real_only.yaml"
    path.write_text(BENCH.read_text().replace("gauges: {model: TPG362}", f"gauges: {{model: {real_only}}}"))
    procedure = ROOT / "procedures" / "pressure_decay.yaml"
    assert main(["validate", str(procedure), "--bench", str(path)]) == 0
    capsys.readouterr()
    code = main(["run", str(procedure), "--bench", str(path), "--sim", "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"rig run: error: {path}: instrument 'gauges' ({real_only}) has no simulated server "
        "(its model declares none), so this bench cannot run in simulation"
    ]
    assert not (tmp_path / "d" / "runs").exists() or not any((tmp_path / "d" / "runs").iterdir())
