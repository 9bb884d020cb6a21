"""The model table (``drivers.models``) is the one source of what an instrument model is.

Each declared model opens the driver class it names; the simulated server it names stands in
for it with the channels, layout and printed digits the table says; the simulator and the
validator agree on a simulated gauge's accuracy because both read it there; and no other
module spells a model's name, nor does the validator import the simulator.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.base import Instrument
from drivers.errors import InstrumentError
from drivers.models import MODELS, InstrumentModel, import_named, lookup, models_driven_by, register
from drivers.registry import driver_class, open_instrument
from rig.bench import BenchSpec, load_bench
from rig.clock import VirtualClock
from rig.procedure.loader import display_step_pa, sensor_accuracy
from rig.sim.bench_physics import build_simulation
from rig.sim.servers.daq import IDN_BY_MODEL
from rig.sim.servers.tic import PRODUCT as TIC_PRODUCT
from rig.sim.servers.tpg import PART_NUMBERS
from rig.sim.servers.vgc import MODEL_NUMBERS
from rig.sim.simulated_rig import SimulatedRig

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(MODELS)
GAUGES = sorted(name for name, m in MODELS.items() if m.kind == "gauge")
DAQS = sorted(name for name, m in MODELS.items() if m.kind == "daq")
# The models a pressure is read on (a flow meter's one channel reads a flow).
PRESSURE_READERS = GAUGES + DAQS
# Modules that may spell a model's name, and why: the table itself; a driver's ``model``
# attribute (what it calls itself in messages and identities); what a simulated server prints
# as its identity (AYT part numbers, *IDN? strings), checked against the table below.
MAY_NAME_MODELS = {
    "drivers/models.py",
    "drivers/catalog.py",
    "drivers/mks937b.py",
    "drivers/daq970a.py",
    "drivers/edwards_tic.py",
    "rig/sim/servers/tpg.py",
    "rig/sim/servers/daq.py",
    "rig/sim/servers/vgc.py",
    "rig/sim/servers/tic.py",
}
# "7.60E+2", "1.0133E+03", "5.0691e+01": the significant digits of a printed pressure.
MANTISSA = re.compile(r"[+-]?(\d+)\.?(\d*)E[+-]?\d+", re.IGNORECASE)
# A controller's own query for channel 1's pressure where it is not its mnemonic "PR1" / "PR1?".
PRINT_QUERIES = {"TIC": ("?V913",), "XGS600": ("02", "T1")}


def first_channel(model: InstrumentModel) -> int:
    return model.daq_layout.inputs[0] if model.daq_layout is not None else 1


def bench_of(tmp_path: Path, name: str, sensors: str = "") -> BenchSpec:
    """A simulated bench with one instrument of model ``name``: a pressure channel on each of its
    gauge channels (on its first input for a DAQ), all on one volume."""
    model = MODELS[name]
    channels = range(1, model.gauge_channels + 1) if model.kind == "gauge" else [first_channel(model)]
    lines = "\n".join(
        f"  p{ch}: {{instrument: inst, channel: {ch}, measures: pressure, volume: chamber}}"
        for ch in channels
    )
    text = (
        "bench: one_model\n"
        f"instruments:\n  inst: {{model: {name}}}\n"
        "volumes:\n  chamber: {size: 1 L}\n"
        f"channels:\n{lines}\n"
        f"physics:\n  seed: 1\n  sensors: {{{sensors}}}\n"
    )
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    return load_bench(path)


def significant_digits(printed: str) -> int:
    match = MANTISSA.fullmatch(printed)
    assert match is not None, f"{printed!r} is not a printed pressure"
    return len((match.group(1) + match.group(2)).lstrip("0"))


# --- the table itself --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_model_names_a_driver_class_that_drives_it(name: str) -> None:
    model = MODELS[name]
    cls = driver_class(name)
    assert isinstance(cls, type) and issubclass(cls, Instrument)
    assert import_named(model.driver) is cls
    assert name in models_driven_by(cls)
    assert lookup(name) is model and model.name == name


@pytest.mark.parametrize("name", NAMES)
def test_every_model_names_a_simulated_server_factory(name: str) -> None:
    assert callable(import_named(MODELS[name].simulator))


def test_the_simulated_servers_identify_exactly_the_models_simulated_by_them() -> None:
    by_factory = {
        factory: {n for n, m in MODELS.items() if m.simulator == factory}
        for factory in {m.simulator for m in MODELS.values()}
    }
    assert set(PART_NUMBERS) == by_factory["rig.sim.server_factories:tpg"]
    assert set(IDN_BY_MODEL) == by_factory["rig.sim.server_factories:daq"]
    assert set(MODEL_NUMBERS) == by_factory["rig.sim.server_factories:vgc"]
    assert {TIC_PRODUCT} == by_factory["rig.sim.server_factories:tic"]


def test_an_unknown_model_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown instrument model 'TPG999' \(known: 34970A, .*TPG366.*\)"):
        lookup("TPG999")
    with pytest.raises(KeyError, match=r"no driver for model 'TPG999' \(known: 34970A, .*TPG366.*\)"):
        driver_class("TPG999")


def test_registering_a_name_twice_adds_nothing() -> None:
    before = dict(MODELS)
    fresh = replace(MODELS["TPG362"], name="TPG_TEST")
    with pytest.raises(ValueError, match="declared twice: TPG362"):
        register([fresh, MODELS["TPG362"]])
    with pytest.raises(ValueError, match="declared twice: TPG_TEST"):
        register([fresh, fresh])
    assert before == MODELS


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"gauge_channels": 0}, "at least one gauge channel"),
        ({"driver": "drivers.tpg36x.Tpg36x"}, "not 'module:attribute'"),
        ({"kind": "daq"}, "a DAQ has a DAQ layout"),
        ({"display_digits": 0}, "display_digits 0 is below 1"),
        ({"simulated_accuracy_rel": 1.0}, "between 0 and 1, got 1"),
        ({"name": "TPG 362"}, "one word of printable characters"),
        ({"name": ""}, "one word of printable characters"),
        ({"kind": "flow_meter"}, "a flow instrument has no gauge channels"),
        ({"kind": "valve"}, "kind 'valve' is not gauge, daq, flow_meter or flow_controller"),
    ],
)
def test_an_inconsistent_declaration_is_refused(changes: dict[str, object], why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        replace(MODELS["TPG362"], **changes)  # type: ignore[arg-type]


# --- what reads it ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESSURE_READERS)
def test_the_simulator_and_the_validator_agree_on_an_unstated_accuracy(tmp_path: Path, name: str) -> None:
    model = MODELS[name]
    number = first_channel(model)
    channel = f"p{number}"

    def simulated_accuracy(bench: BenchSpec) -> float:
        (gauge,) = [g.model for g in build_simulation(bench, VirtualClock()).gauges if g.channel == number]
        return gauge.accuracy_rel

    silent = bench_of(tmp_path, name)
    assert simulated_accuracy(silent) == sensor_accuracy(silent, channel) == model.simulated_accuracy_rel
    stated = bench_of(tmp_path, name, f"{channel}: {{accuracy: 0.01}}")
    assert simulated_accuracy(stated) == sensor_accuracy(stated, channel) == 0.01


@pytest.mark.parametrize("name", NAMES)
def test_the_display_step_is_one_last_printed_digit(name: str) -> None:
    digits = MODELS[name].display_digits
    expected = 0.0 if digits is None else 10.0 ** (3 - (digits - 1))
    assert display_step_pa(name, 1234.5) == pytest.approx(expected)


@pytest.fixture
def rig_of(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[InstrumentModel, Instrument]]:
    """The simulated server of one instrument of model ``request.param``, opened with its driver."""
    name: str = request.param
    bench = bench_of(tmp_path, name)
    with (
        SimulatedRig(bench, VirtualClock(), seed=1) as rig,
        open_instrument(name, rig.resources()["inst"]["resource"], timeout_s=2.0) as inst,
    ):
        yield MODELS[name], inst


# A controller whose one-channel reading is not PR1 (mnemonic) or PR1? (MKS): its query and data.


@pytest.mark.integration
@pytest.mark.parametrize("rig_of", GAUGES, indirect=True)
def test_a_simulated_gauge_controller_has_the_tables_channels_and_digits(
    rig_of: tuple[InstrumentModel, Instrument],
) -> None:
    model, inst = rig_of
    assert inst.channel_count == model.gauge_channels  # type: ignore[attr-defined]
    assert inst.identity().split(",")[0] == model.name
    readings = inst.read_all()  # type: ignore[attr-defined]
    assert [r.channel for r in readings] == list(range(1, model.gauge_channels + 1))
    # Each controller's own query: the text it prints, before the driver makes a float of it.
    query = PRINT_QUERIES.get(model.name, ("PR1?",) if model.addresses is not None else ("PR1",))
    printed = MANTISSA.search(inst.ask(*query))  # type: ignore[attr-defined]
    assert printed is not None
    assert significant_digits(printed[0]) == model.display_digits


@pytest.mark.integration
@pytest.mark.parametrize("rig_of", DAQS, indirect=True)
def test_a_simulated_daq_has_the_tables_inputs_and_relays(rig_of: tuple[InstrumentModel, Instrument]) -> None:
    model, inst = rig_of
    assert model.daq_layout is not None
    relays, inputs = model.daq_layout.relays, model.daq_layout.inputs
    assert model.name in inst.identity().split(",")
    ends = [relays[0], relays[-1]]
    inst.close_relays(ends)  # type: ignore[attr-defined]
    assert inst.relays_closed(ends) == dict.fromkeys(ends, True)  # type: ignore[attr-defined]
    for beyond in (relays.stop, inputs.stop):
        with pytest.raises(InstrumentError):
            inst.close_relays([beyond])  # type: ignore[attr-defined]
    inst.volts(inputs[-1])  # type: ignore[attr-defined]
    for not_an_input in (inputs.stop, relays[0]):
        with pytest.raises(InstrumentError):
            inst.volts(not_an_input)  # type: ignore[attr-defined]


# --- nothing else declares a model ------------------------------------------------------------


def python_files(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def test_the_validator_and_the_bench_reader_never_import_the_simulator() -> None:
    checked = python_files("rig/procedure") + sorted((ROOT / "rig").glob("bench*.py"))
    assert len(checked) > 3
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            m for m in imported_modules(p) if m == "rig.sim" or m.startswith("rig.sim.")
        )
        for p in checked
    }
    assert {p: m for p, m in offenders.items() if m} == {}


def test_the_drivers_never_import_the_rig() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m == "rig" or m.startswith("rig."))
        for p in python_files("drivers")
    }
    assert {p: m for p, m in offenders.items() if m} == {}


def test_no_other_module_spells_a_model_name() -> None:
    spelled: dict[str, list[str]] = {}
    for path in python_files("rig", "drivers"):
        where = str(path.relative_to(ROOT))
        if where in MAY_NAME_MODELS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if isinstance(node, ast.Constant) and node.value in MODELS:
                spelled.setdefault(where, []).append(f"{node.value!r} at line {node.lineno}")
    assert spelled == {}
