"""The true leak of an evaluation: a factor of the procedure's limit made an orifice of the bench.

The simulated bench's leak under test is its file's first leak, ``physics.leaks[0]``, an
orifice (``{name: seal, between: [article, chamber], kind: orifice, diameter: 5 um}``). Its flow
is the isentropic orifice law of :class:`rig.sim.flows.Orifice`: a mass flow proportional to the
effective area C_d·A at given pressures and temperature. The measurement sees that flow as the
throughput Q = ṁ·R·T of its volume's gas. So the area that makes Q = factor × limit is

    C_d·A = factor × limit / (ṁ(C_d·A = 1 m², p_up, T_up, p_down) · R_air · T_volume)

at the measurement's conditions: the test volume's pressure and temperature and the pressure
at the leak's other end while the measurement runs. Those are read from the physics itself, in
one probe run of the procedure (:func:`probe_conditions`), since the fill's target is not the
pressure the gas settles at (the fill stops within its tolerance, then the compression heat
leaves the gas). The area barely moves the conditions (a leak of twice a 0.5 sccm limit takes
under 1 % of a 2 bar fill in a 10 minute measurement), so one probe serves every factor.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass

from rig.clock import VirtualClock
from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import RunOutcome
from rig.errors import InputError
from rig.execution.bench_access import open_bench
from rig.execution.execute import execute
from rig.procedure.loader import Procedure
from rig.sim.flows import Orifice
from rig.sim.simulated_bench import SimulatedBench
from rig.steps.base import walk
from rig.steps.fill import Fill
from rig.steps.measure_decay import MeasureDecay
from rig.steps.prompt import Prompt
from rig.units import R_GAS

LEAK_PATH = ("physics", "leaks", 0)


@dataclass(frozen=True)
class Conditions:
    """The gas around the leak while the measurement runs (true values, not gauge readings)."""

    volume_pa: float  # the measured volume's pressure
    volume_k: float  # its gas temperature
    other_pa: float  # the pressure at the leak's other end
    other_k: float


@dataclass(frozen=True)
class TrueLeak:
    """The procedure's decisive measurement and the bench's leak under test, joined."""

    measurement: str  # the decisive measure_decay's name
    volume: str  # the volume it measures
    limit_pa_m3_s: float  # what its verdict is judged against
    other: str  # the place at the leak's other end
    conditions: Conditions

    def cd_area_m2(self, factor: float) -> float:
        """The orifice's effective area C_d·A that leaks ``factor`` × the limit at the conditions."""
        return factor * self.limit_pa_m3_s / self.rate_per_area()

    def rate_at(self, cd_area_m2: float) -> float:
        """The throughput (Pa·m³/s, from the measured volume's side) of an orifice of ``cd_area_m2``."""
        return cd_area_m2 * self.rate_per_area()

    def rate_per_area(self) -> float:
        """Throughput per m² of effective area at the conditions (Pa·m³/s/m²)."""
        c = self.conditions
        unit = Orifice(self.volume, self.other, 1.0)
        mol_s = abs(unit.molar_flow(0.0, c.volume_pa, c.volume_k, c.other_pa, c.other_k))
        if mol_s <= 0.0:
            raise InputError(
                f"no flow through the leak between {self.volume!r} ({c.volume_pa:.0f} Pa) and "
                f"{self.other!r} ({c.other_pa:.0f} Pa) during {self.measurement!r}: no factor can set it"
            )
        return mol_s * R_GAS * c.volume_k


def decisive_measurement(procedure: Procedure) -> MeasureDecay:
    """The ``measure_decay`` with a limit whose verdict the evaluation counts (the last one run)."""
    steps = [*walk(procedure.setup), *walk(procedure.main), *walk(procedure.cleanup)]
    judged = [s for s in steps if isinstance(s, MeasureDecay) and s.limit_pa_m3_s is not None]
    if not judged:
        raise InputError(
            f"procedure {procedure.name!r} has no measure_decay with a limit: nothing to evaluate"
        )
    return judged[-1]


def leak_ends(procedure: Procedure, volume: str) -> str:
    """The place across ``physics.leaks[0]`` from ``volume`` (InputError unless it is an orifice there)."""
    bench = procedure.bench
    doc = bench.doc
    if doc is None or not bench.simulated or not doc.has(LEAK_PATH):
        raise InputError(
            f"{bench.source}: bench {bench.name!r} has no physics.leaks[0] to set the true leak on"
        )
    kind = doc.text((*LEAK_PATH, "kind"))
    if kind != "orifice":
        raise InputError(f"{bench.source}: physics.leaks[0] is a {kind} leak; rig evaluate sets an orifice")
    ends = [str(e) for e in doc.sequence((*LEAK_PATH, "between"))]
    if volume not in ends:
        raise InputError(
            f"{bench.source}: physics.leaks[0] runs between {' and '.join(ends)}, "
            f"not from the measured volume {volume!r}"
        )
    return ends[1] if ends[0] == volume else ends[0]


def check_leak_kept(procedure: Procedure) -> None:
    """:class:`InputError` when an operator action of the procedure changes ``physics.leaks[0]``.

    A prompt's action is acted out in simulation (``repair_seal``: the seal becomes a 1 µm hole):
    what is measured after it is no longer the true leak the evaluation set, and its counts would
    be of the repaired hole at every factor.
    """
    doc = procedure.bench.doc
    if doc is None:
        return
    leak = doc.get((*LEAK_PATH, "name"))
    if not isinstance(leak, str):
        return  # an unnamed leak no action can name
    steps = [*walk(procedure.setup), *walk(procedure.main), *walk(procedure.cleanup)]
    for action in dict.fromkeys(s.action for s in steps if isinstance(s, Prompt) and s.action):
        changes = doc.get(("physics", "actions", action))
        if isinstance(changes, list) and any(isinstance(c, dict) and c.get("leak") == leak for c in changes):
            raise InputError(
                f"procedure {procedure.name!r}: its action {action!r} changes the leak under test"
                f" ({leak!r}) during the run, so the runs would not measure the true leak set;"
                " rig evaluate takes procedures that leave it as set"
            )


def leak_element(simulation: SimulatedBench, procedure: Procedure) -> Orifice:
    """``physics.leaks[0]`` as built in ``simulation`` (leaks follow valves and pumps, in file order)."""
    doc = procedure.bench.doc
    assert doc is not None
    a, b = (str(e) for e in doc.sequence((*LEAK_PATH, "between")))
    for element in simulation.network.elements:
        if type(element) is Orifice and (element.a, element.b) == (a, b):
            return element
    raise InputError(
        f"{procedure.bench.source}: physics.leaks[0] was not built as an orifice"
    )  # pragma: no cover


def set_leak(simulation: SimulatedBench, procedure: Procedure, cd_area_m2: float) -> None:
    """Make the bench's leak under test an orifice of effective area ``cd_area_m2`` from now on."""
    leak_element(simulation, procedure).cd_area_m2 = cd_area_m2
    simulation.network.changed()


def nominal_conditions(procedure: Procedure, measure: MeasureDecay, other: str) -> Conditions:
    """The conditions as the files say: the fill's target, the room's temperature and pressure."""
    doc = procedure.bench.doc
    assert doc is not None
    room_k = doc.quantity(("physics", "outside", "atmosphere", "temperature"), "temperature", "20 degC")
    room_pa = doc.quantity(("physics", "outside", "atmosphere", "pressure"), "pressure", "101325 Pa")
    steps = [*walk(procedure.setup), *walk(procedure.main)]
    fills = [s.to_pa for s in steps if isinstance(s, Fill) and s.volume == measure.volume]
    return Conditions(fills[-1] if fills else room_pa, room_k, room_pa, room_k)


class _ConditionsProbe(NullObserver):
    """Reads the true conditions as the measurement starts and as the step after it starts."""

    def __init__(self, simulation: SimulatedBench, volume: str, other: str, kind: str, name: str) -> None:
        self.simulation, self.volume, self.other, self.kind, self.name = simulation, volume, other, kind, name
        self.seen: list[Conditions] = []
        self._inside = False

    def _read(self) -> None:
        sim = self.simulation
        self.seen.append(
            Conditions(
                sim.true_pressure_pa(self.volume),
                sim.true_temperature_k(self.volume),
                sim.true_pressure_pa(self.other),
                sim.true_temperature_k(self.other),
            )
        )

    def step_started(self, progress: StepProgress) -> None:
        """At the measurement's start, and at the next step's (its end)."""
        if self._inside:
            self._read()
            self._inside = False
        elif progress.kind == self.kind and progress.name == self.name and not self.seen:
            self._read()
            self._inside = True

    def finished(self, outcome: RunOutcome) -> None:
        """The measurement was the last step: its end is the run's."""
        if self._inside:
            self._read()
            self._inside = False


def probe_conditions(procedure: Procedure, seed: int | None = None, factor: float = 1.0) -> TrueLeak:
    """The procedure's :class:`TrueLeak`, its conditions read from one simulated run (in process).

    The probe runs with the leak set from the files' nominal conditions at ``factor``; the
    conditions are the mean of the true values at the measurement's start and end.
    """
    measure = decisive_measurement(procedure)
    other = leak_ends(procedure, measure.volume)
    assert measure.limit_pa_m3_s is not None
    guess = TrueLeak(
        measure.name,
        measure.volume,
        measure.limit_pa_m3_s,
        other,
        nominal_conditions(procedure, measure, other),
    )
    clock = VirtualClock()
    with ExitStack() as stack:
        access = open_bench(
            procedure.bench, sim=True, clock=clock, stack=stack, seed=seed, transport="inprocess"
        )
        assert access.simulation is not None
        set_leak(access.simulation, procedure, guess.cd_area_m2(factor))
        probe = _ConditionsProbe(access.simulation, measure.volume, other, measure.kind, measure.label)
        outcome = execute(procedure, access, clock, observers=[probe]).outcome
    if len(probe.seen) < 2:
        raise InputError(
            f"the probe run never completed measurement {measure.name!r} "
            f"({outcome.verdict.value}: {outcome.reason}); its conditions are unknown"
        )
    start, end = probe.seen[0], probe.seen[1]
    mean = Conditions(*(0.5 * (x + y) for x, y in zip(_fields(start), _fields(end), strict=True)))
    return TrueLeak(measure.name, measure.volume, measure.limit_pa_m3_s, other, mean)


def equivalent_diameter_m(procedure: Procedure, cd_area_m2: float) -> float:
    """The hole's diameter with the file's discharge coefficient (0.72 unless it says)."""
    doc = procedure.bench.doc
    assert doc is not None
    cd = doc.number((*LEAK_PATH, "discharge_coefficient"), 0.72)
    return math.sqrt(4.0 * cd_area_m2 / (math.pi * cd))


def _fields(c: Conditions) -> tuple[float, float, float, float]:
    return (c.volume_pa, c.volume_k, c.other_pa, c.other_k)
