"""A simulated mass-flow instrument on a bench: its flow element and its sensors' errors.

The physics of the flow itself is :class:`rig.sim.flows.MassFlowController`, an element of
the gas network; this is what the instrument makes of it. Its reading of the flow carries
the errors its datasheet allows (:class:`drivers.models.FlowRange`): a span error and a zero
offset drawn once per instrument from the seed, uniformly within ±(accuracy of reading) and
±(accuracy of full scale), and white noise of ``noise_full_scale`` × full scale on every
reading. Its pressure sensor reads the volume it feeds, its thermometer the gas coming
through it (the supply's; a meter's, the volume's gas).

A meter (no controller in the network) reads no flow: it is not in any gas path of the model.
:func:`flow_channels` builds them from a bench file's ``physics.flow_controllers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from drivers.models import MODELS, FlowRange
from rig.located_yaml import Doc, LocatedError, attempt, raise_all
from rig.sim.backend import ControlMode, FlowSample
from rig.sim.flows import MassFlowController
from rig.sim.network import GasNetwork
from rig.sim.nodes import GasVolume
from rig.units import R_GAS

if TYPE_CHECKING:
    from rig.bench import BenchSpec

P = tuple[Any, ...]


@dataclass
class FlowChannel:
    """The flow instrument ``instrument`` on the bench: what it feeds, and how it errs."""

    instrument: str
    volume: str
    flow: FlowRange
    element: MassFlowController | None  # None: a meter, which the model puts in no gas path
    rng: np.random.Generator = field(repr=False)
    span_error: float = 0.0  # relative error of every reading
    zero_offset_mol_s: float = 0.0

    @classmethod
    def seeded(
        cls, instrument: str, volume: str, flow: FlowRange, element: MassFlowController | None, seed: int
    ) -> FlowChannel:
        """A channel whose errors are drawn from ``seed`` (the same seed, the same instrument)."""
        # The instrument's name joins the seed, so that two instruments of a bench err apart.
        rng = np.random.default_rng([seed, *instrument.encode()])
        span = float(rng.uniform(-flow.accuracy_reading, flow.accuracy_reading))
        zero = float(rng.uniform(-1.0, 1.0)) * flow.accuracy_full_scale * flow.full_scale_mol_s
        return cls(instrument, volume, flow, element, rng, span, zero)

    def true_flow_mol_s(self, network: GasNetwork) -> float:
        """The flow through it now, mol/s (no sensor in the way)."""
        if self.element is None:
            return 0.0
        e = self.element
        pa, ta = network.pressure_pa(e.a), network.temperature_k(e.a)
        pb, tb = network.pressure_pa(e.b), network.temperature_k(e.b)
        return e.molar_flow(network.t, pa, ta, pb, tb)

    def read(self, network: GasNetwork) -> FlowSample:
        """What its sensors read now."""
        true = self.true_flow_mol_s(network)
        noise = float(self.rng.normal(0.0, self.flow.noise_full_scale * self.flow.full_scale_mol_s))
        flow = true * (1.0 + self.span_error) + self.zero_offset_mol_s + noise
        # Its thermometer is in its own flow body: the gas coming through it, from the supply.
        through = self.element.a if self.element is not None else self.volume
        return FlowSample(network.pressure_pa(self.volume), network.temperature_k(through) - 273.15, flow)

    def command(self, mode: ControlMode, setpoint: float) -> None:
        """Set its loop (a meter has none: ignored)."""
        if self.element is not None:
            self.element.mode, self.element.setpoint = mode, setpoint


# A pressure loop faster than this is a real controller's at best; slower, it would not settle.
FLOW_LOOP_TIME_CONSTANTS_S = (0.1, 600.0)


def flow_channels(
    doc: Doc, bench: BenchSpec, places: set[str], volumes: list[GasVolume], seed: int
) -> list[FlowChannel]:
    """Each flow instrument's simulation: what it feeds (its flow channel's volume) and from where."""
    root: P = ("physics", "flow_controllers")
    kinds = {name: MODELS[spec.model].kind for name, spec in bench.instruments.items()}
    controllers = {name for name, kind in kinds.items() if kind == "flow_controller"}
    problems: list[LocatedError] = []
    for name, p in doc.items(root):
        if name not in controllers:
            known = ", ".join(sorted(controllers)) or "none"
            problems.append(
                doc.key_error(p, f"{name!r} is not a flow controller of this bench (it has: {known})")
            )
    sizes = {v.name: (v.volume_m3, v.wall_temperature_k) for v in volumes}
    out = []
    for name, kind in kinds.items():
        if kind not in ("flow_meter", "flow_controller"):
            continue
        fed = next(
            (c.volume for c in bench.channels.values() if c.instrument == name and c.measures == "flow"), None
        )
        if fed is None or fed not in sizes:
            why = f"a simulated flow instrument needs a `measures: flow` channel naming what {name!r} feeds"
            problems.append(doc.error(("instruments", name), why))
            continue
        flow = MODELS[bench.instruments[name].model].flow
        assert flow is not None  # a flow instrument's model declares its range
        element = None
        if kind == "flow_controller":
            element = attempt(
                problems, partial(_controller, doc, (*root, name), name, fed, sizes[fed], places, flow)
            )
            if element is None:
                continue
        out.append(FlowChannel.seeded(name, fed, flow, element, seed))
    raise_all(problems)
    return out


def _controller(
    doc: Doc, p: P, name: str, fed: str, size: tuple[float, float], places: set[str], flow: FlowRange
) -> MassFlowController:
    if doc.get(p) is None:
        raise doc.error(
            ("instruments", name),
            f"flow controller {name!r} needs its supply in physics.flow_controllers: "
            f"{{{name}: {{supply: <an outside>}}}}",
        )
    doc.mapping(p, allowed={"supply", "time_constant"}, required=frozenset({"supply"}))
    supply = doc.text((*p, "supply"))
    if supply not in places:
        raise doc.error((*p, "supply"), f"{supply!r} is neither a volume nor an outside of this bench")
    if supply == fed:
        raise doc.error((*p, "supply"), f"{name!r} feeds {fed!r}: its supply is another place")
    tau = doc.quantity((*p, "time_constant"), "time", "3 s", positive=True)
    low, high = FLOW_LOOP_TIME_CONSTANTS_S
    if not low <= tau <= high:
        raise doc.error(
            (*p, "time_constant"), f"a pressure loop's time constant lies in {low:g} to {high:g} s"
        )
    volume_m3, wall_k = size
    # τ = V/(R·T·gain): the loop's gain for the volume it feeds (MassFlowController).
    return MassFlowController(supply, fed, flow.full_scale_mol_s, volume_m3 / (R_GAS * wall_k * tau))
