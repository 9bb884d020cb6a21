"""Every instrument model the rig knows, each declared once: what it is, how it is driven and simulated.

A bench file names a model (``model: TPG362``); all the rest comes from its
:class:`InstrumentModel` here: the driver class, whether it is a gauge controller or a DAQ,
its channels, how many digits it prints, the accuracy assumed for its readings, and the
simulated server that stands in for it.

Driver classes and simulated servers are named as ``"module:attribute"`` strings and imported
only when asked for (:func:`import_named`): one broken driver cannot stop the others, and this
module, the bench reader and the procedure validator never import the simulator (``rig.sim``
sits above ``drivers``). Nothing here imports a driver either, so reading the table is cheap.

:func:`register` is the one way into :data:`MODELS`. Models come to it through the entry-point
group ``leakrig.instruments`` (:mod:`drivers.plugins`): ours are declared in :mod:`drivers.catalog`
and named by our own ``pyproject.toml``, a lab's by its plugin's. They are loaded when this module
is first imported; :data:`PLUGINS` says what each entry point brought, or why it brought nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from drivers.plugins import PluginItem

__all__ = [
    "ASSUMED_ACCURACY_REL",
    "DIFFERENTIAL_TRANSDUCER",
    "MODELS",
    "MUX_34901A_ACTUATOR_34903A",
    "PLUGINS",
    "SIMULATED_ACCURACY_REL",
    "AnalogTransducer",
    "DaqLayout",
    "FlowRange",
    "InstrumentModel",
    "Kind",
    "import_named",
    "load_plugins",
    "lookup",
    "models_driven_by",
    "register",
]

Kind = Literal["gauge", "daq", "flow_meter", "flow_controller"]

# The relative accuracy assumed for a gauge the bench says nothing about. 5 % of reading is
# what the coarsest gauges a rig carries (Pirani / cold-cathode combinations) are specified at;
# capacitance gauges do 0.25 %. Assuming the coarse figure can only overstate an uncertainty,
# never understate it.
ASSUMED_ACCURACY_REL = 0.05
# A simulated gauge's relative accuracy when its sensor states none (a capacitance gauge's
# 0.25 %). The simulator gives it and the validator assumes it for a simulated bench: both
# read it from the model, so they cannot disagree.
SIMULATED_ACCURACY_REL = 0.0025

# A gauge's zero, as datasheets state it (leak-physics §3.6): a temperature coefficient of
# 0.005 % of full scale per kelvin of ambient (capacitance diaphragm gauges, the typical
# datasheet figure) and a long-term zero drift below 0.1 % of full scale in two years
# (absolute transducers, VEGABAR class). Both scale with the sensor's full scale.
ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K = 0.005e-2
ZERO_DRIFT_FS_PER_S = 0.1e-2 / (2.0 * 365.25 * 86400.0)
# The full scales of the sensors these controllers carry on our benches: a Pfeiffer CMR 361 on
# a TPG 36x (1100 hPa), an MKS 627 Baratron on a 937B (1000 Torr).
CMR361_FULL_SCALE_PA = 110e3
BARATRON_1000_TORR_FULL_SCALE_PA = 1000.0 * 133.322


@dataclass(frozen=True)
class DaqLayout:
    """Where a DAQ's inputs and relays are: the module in each slot and its channel numbers.

    Channels are numbered slot × 100 + channel, as SCPI channel lists (``(@201)``) write them.
    """

    multiplexer: str
    inputs: range
    actuator: str
    relays: range


#: A 34901A 20-channel multiplexer in slot 1 (inputs) and a 34903A 20-channel actuator in slot 2
#: (relays): the DAQ driver (``drivers/daq970a.py``) and the simulated DAQ both take it so.
MUX_34901A_ACTUATOR_34903A = DaqLayout("34901A", range(101, 121), "34903A", range(201, 221))


@dataclass(frozen=True)
class AnalogTransducer:
    """A transducer read as a DC voltage on a DAQ input: its output scale, range and error.

    The output is linear in the measured quantity, ``output_full_scale_v`` at the full scale
    the bench declares for the channel (``full_scale:``), of either sign for a differential
    head; it saturates at ``saturation_v``, where a reading says only "beyond". Its accuracy
    (a fraction of the reading) and its resolution (a fraction of the full scale) are what is
    assumed when the bench states none.
    """

    name: str
    output_full_scale_v: float
    saturation_v: float
    accuracy_rel: float
    resolution_fs: float

    def __post_init__(self) -> None:
        if not 0.0 < self.output_full_scale_v < self.saturation_v:
            raise ValueError(f"transducer {self.name!r}: it must saturate beyond its full-scale output")
        if not (0.0 < self.accuracy_rel < 1.0 and 0.0 < self.resolution_fs < 1.0):
            raise ValueError(f"transducer {self.name!r}: accuracy and resolution are fractions below 1")


#: A differential capacitance manometer (the Baratron class: MKS 226A/698A with a ±10 V output)
#: between a test volume and its reference, read by a DAQ970A as DC volts
#: (``MEAS:VOLT:DC? (@115)`` → ``-1.23456789E-01``, protocols.md §1.5 and table 5.2 row 13).
#: ±10 V spans ± the full scale; the output saturates near 11 V. 0.3 % of reading and a
#: resolution of 1e-5 of full scale are the class's datasheet figures (leak-physics §3.6).
DIFFERENTIAL_TRANSDUCER = AnalogTransducer(
    "differential capacitance manometer, ±10 V output",
    output_full_scale_v=10.0,
    saturation_v=11.0,
    accuracy_rel=0.003,
    resolution_fs=1e-5,
)


@dataclass(frozen=True)
class FlowRange:
    """A mass-flow instrument's range, standard conditions and datasheet accuracy.

    Its flows are "standard" volumetric flows in sccm: cm³/min of gas at the instrument's
    standard conditions (Alicat's defaults: 25 °C and 14.696 psia, i.e. 101325 Pa), so one
    sccm is a fixed amount of gas per second (:attr:`mol_s_per_sccm`). Its accuracy is
    ±(``accuracy_reading`` × reading + ``accuracy_full_scale`` × full scale), a bound;
    ``resolution_sccm`` is the last digit it prints and ``noise_full_scale`` its reading's
    white noise (1 σ) as a fraction of the full scale.
    """

    full_scale_sccm: float
    accuracy_reading: float
    accuracy_full_scale: float
    resolution_sccm: float
    noise_full_scale: float = 0.0
    standard_temperature_k: float = 298.15
    standard_pressure_pa: float = 101325.0

    def __post_init__(self) -> None:
        if not (self.full_scale_sccm > 0.0 and 0.0 < self.resolution_sccm < self.full_scale_sccm):
            raise ValueError("a flow range has a positive full scale and a resolution below it")
        if not (0.0 <= self.accuracy_reading < 1.0 and 0.0 <= self.accuracy_full_scale < 1.0):
            raise ValueError("a flow accuracy is a fraction (of the reading, of the full scale) below 1")
        if not (0.0 <= self.noise_full_scale < 1.0):
            raise ValueError("a flow noise is a fraction of the full scale below 1")
        if not (self.standard_temperature_k > 0.0 and self.standard_pressure_pa > 0.0):
            raise ValueError("standard conditions are a positive temperature and pressure")

    @property
    def mol_s_per_sccm(self) -> float:
        """The amount of gas per second one sccm is at these standard conditions, mol/s."""
        # p·V/(R·T) for 1 cm³ each minute; R as rig.units has it (drivers do not import rig).
        return self.standard_pressure_pa * 1e-6 / 60.0 / (8.314462618 * self.standard_temperature_k)

    @property
    def full_scale_mol_s(self) -> float:
        """The full scale in mol/s."""
        return self.full_scale_sccm * self.mol_s_per_sccm

    def accuracy_bound_mol_s(self, reading_mol_s: float) -> float:
        """The datasheet's bound on the error of a reading of ``reading_mol_s``, mol/s."""
        return self.accuracy_reading * abs(reading_mol_s) + self.accuracy_full_scale * self.full_scale_mol_s


@dataclass(frozen=True)
class InstrumentModel:
    """One instrument model: its driver, its role on a bench, its channels and its simulator.

    ``driver`` and ``simulator`` are ``"module:attribute"`` paths, imported on demand. The
    simulator is a factory ``(simulation, instrument, faults) -> InstrumentServer`` (see
    ``rig.sim.server_factories``). ``display_digits`` is the number of significant digits
    the controller prints for a pressure, so its readings move in steps of one last digit
    (None: it prints no pressure of its own, a DAQ reads an analog value). ``accuracy_rel``
    is what a reading is assumed good to when the bench states nothing, on a real bench;
    ``simulated_accuracy_rel`` is the accuracy the simulated gauges of this model have when the
    bench's ``physics.sensors`` states none (and so what a simulated bench is assumed to have).
    ``zero_stability_pa_s`` (a bound on how fast its gauges' zero drifts) and
    ``zero_temperature_coefficient_pa_k`` (how far the zero moves per kelvin of ambient) are
    what a bench that declares no zero stability of its own is assumed to have (0 for a DAQ:
    a transducer read through one declares its own on its channel). ``flow`` is a flow
    meter's or controller's range and accuracy (None for every other kind).
    """

    name: str
    kind: Kind
    driver: str
    simulator: str | None = None
    gauge_channels: int = 0
    daq_layout: DaqLayout | None = None
    addresses: range | None = None
    display_digits: int | None = None
    accuracy_rel: float = ASSUMED_ACCURACY_REL
    simulated_accuracy_rel: float = SIMULATED_ACCURACY_REL
    zero_stability_pa_s: float = 0.0
    zero_temperature_coefficient_pa_k: float = 0.0
    flow: FlowRange | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.name or not self.name.isprintable() or any(c.isspace() for c in self.name):
            # A bench file writes it after `model:`: it must be one word a YAML scalar can spell.
            problems.append("a model name is one word of printable characters")
        for field_name in ("driver", "simulator"):
            path = getattr(self, field_name)
            if path is None and field_name == "simulator":
                continue  # a model without a simulated server runs on a real bench only
            module, _, attribute = str(path).partition(":")
            if not (module and attribute):
                problems.append(f"{field_name} {path!r} is not 'module:attribute'")
        if self.kind == "gauge" and (self.gauge_channels < 1 or self.daq_layout is not None):
            problems.append("a gauge controller has at least one gauge channel and no DAQ layout")
        if self.kind == "daq" and (self.gauge_channels != 0 or self.daq_layout is None):
            problems.append("a DAQ has a DAQ layout and no gauge channels")
        if self.kind in ("flow_meter", "flow_controller") and (self.gauge_channels or self.daq_layout):
            problems.append("a flow instrument has no gauge channels and no DAQ layout")
        if (self.kind in ("flow_meter", "flow_controller")) != (self.flow is not None):
            problems.append("a flow instrument, and only one, declares its flow range")
        if self.kind not in ("gauge", "daq", "flow_meter", "flow_controller"):
            problems.append(f"kind {self.kind!r} is not gauge, daq, flow_meter or flow_controller")
        if self.display_digits is not None and self.display_digits < 1:
            problems.append(f"display_digits {self.display_digits} is below 1")
        for accuracy in (self.accuracy_rel, self.simulated_accuracy_rel):
            if not 0.0 < accuracy < 1.0:
                problems.append(f"an accuracy is a fraction of the reading between 0 and 1, got {accuracy:g}")
        if self.zero_stability_pa_s < 0.0 or self.zero_temperature_coefficient_pa_k < 0.0:
            problems.append("a zero stability and a zero temperature coefficient are bounds: not negative")
        if problems:
            raise ValueError(f"instrument model {self.name!r}: " + "; ".join(problems))


#: Model name (as a bench file spells it) → its declaration. Fed only by :func:`register`.
MODELS: dict[str, InstrumentModel] = {}


def register(models: Iterable[InstrumentModel]) -> None:
    """Add ``models`` to :data:`MODELS`; a name already there is refused (ValueError), none added."""
    new = list(models)
    names = [m.name for m in new]
    taken = sorted({n for n in names if n in MODELS or names.count(n) > 1})
    if taken:
        raise ValueError(f"instrument model(s) declared twice: {', '.join(taken)}")
    MODELS.update((m.name, m) for m in new)


def lookup(name: str) -> InstrumentModel:
    """The declaration of model ``name`` (KeyError naming the known models)."""
    if name not in MODELS:
        raise KeyError(f"unknown instrument model {name!r} (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def models_driven_by(cls: type) -> dict[str, InstrumentModel]:
    """The models whose driver is ``cls`` (or a class it derives from), by name."""
    paths = {f"{c.__module__}:{c.__qualname__}" for c in cls.__mro__}
    return {name: m for name, m in MODELS.items() if m.driver in paths}


def import_named(path: str) -> Any:
    """The attribute a ``"module:attribute"`` path names, its module imported now."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _register_entry(declared: object) -> list[str]:
    """Register what one ``leakrig.instruments`` entry point names: a model or a sequence of them."""
    items = [declared] if isinstance(declared, InstrumentModel) else declared
    if not isinstance(items, list | tuple):
        raise TypeError(f"expected an InstrumentModel or a list/tuple of them, got {type(declared).__name__}")
    models = list(items)
    wrong = [type(m).__name__ for m in models if not isinstance(m, InstrumentModel)]
    if wrong:
        raise TypeError(f"expected InstrumentModel declarations, got {', '.join(sorted(set(wrong)))}")
    register(models)
    return [m.name for m in models]


#: What every ``leakrig.instruments`` entry point brought (ours included), or why it brought nothing.
PLUGINS: list[PluginItem] = []
_loaded: list[bool] = []  # a list, so that loading needs no `global`


def load_plugins() -> None:
    """Load the ``leakrig.instruments`` entry points into :data:`MODELS` (once; :mod:`drivers` does it).

    Called by the package's ``__init__``, not at the end of this module: our catalog imports this
    module, and whichever of the two is imported first, both are whole before an entry point loads.
    """
    if _loaded:
        return
    _loaded.append(True)
    # Imported here: drivers.plugins knows nothing of models.
    from drivers.plugins import INSTRUMENTS_GROUP, load_group

    PLUGINS.extend(load_group(INSTRUMENTS_GROUP, "instrument", _register_entry))
