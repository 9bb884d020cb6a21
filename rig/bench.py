"""Bench files: the instruments, channels, valves and volumes of a rig, its limits and safe state.

A bench file is YAML with quantities in units. Simulated benches add a ``physics:``
part (built only by ``rig.sim``; its top keys are checked here) and may declare ``faults:``.
Every mistake is reported as ``file:line:col: message`` before anything is contacted, all of
them at once; how channels and valves are wired to instruments is checked by
:mod:`rig.bench_wiring` (the safe state too: it names every valve).

    bench: vacuum_chamber_mockup
    instruments:
      gauges: {model: TPG362, resource: "TCPIP::192.168.1.20::8000::SOCKET"}
    volumes:
      chamber: {size: 50 L, uncertainty: 0.5 L}
    channels:
      p_chamber: {instrument: gauges, channel: 1, measures: pressure, volume: chamber, accuracy: 0.0025}
    valves:
      vent: {instrument: daq, channel: 202, between: [chamber, atmosphere]}
    limits: {max_pressure: 3 bar, min_pressure: 0 Pa, valve_response: 10 s, vent_time: 10 min}
    safe_state: {vent: open}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from drivers.models import MODELS, PLUGINS
from drivers.plugins import broken_note
from rig import bench_wiring as wiring
from rig.bench_calibrations import (
    Calibration,
    ReferenceLeak,
    parse_calibration,
    parse_date,
    parse_reference_leak,
)
from rig.bench_differential import differential_part
from rig.located_yaml import Doc, LocatedError, attempt, load, raise_all
from rig.valve_position import PositionFeedback, parse_position

MEASURES = {"pressure", "temperature", "voltage", "differential_pressure", "flow"}
TOP_KEYS = {
    "bench", "description", "instruments", "volumes", "channels", "valves", "limits", "safe_state",
    "physics", "faults", "calibrations", "reference_leaks", "environment", "atmosphere",
    "visa_library",
}  # fmt: skip
# The parts of ``physics:``. Defined here, not in rig.sim, so loading a bench refuses a
# misspelt part without importing the simulator (rig.sim.bench_physics uses this same set).
PHYSICS_KEYS = {
    "seed", "outside", "volumes", "valves", "pumps", "leaks", "outgassing", "sensors", "actions",
    "start_date", "flow_controllers",
}  # fmt: skip
# An unmeasured drift of the gas temperature a test without a thermometer must allow for.
DEFAULT_TEMPERATURE_DRIFT_K_S = 0.5 / 3600.0
CHANNEL_KEYS = {
    "instrument", "channel", "measures", "volume", "resolution", "noise", "accuracy",
    "zero_stability", "zero_temperature_coefficient",
}  # fmt: skip
CHANNEL_KEYS |= {"volumes", "full_scale"}  # a differential head's (rig.bench_differential)
# The atmosphere a bench vents to, when the bench file does not say: the standard atmosphere,
# give or take the weather at sea level. A bench at altitude must declare its own, else its
# vents never read "the atmosphere" and the safe state is never confirmed (never falsely).
STANDARD_ATMOSPHERE_PA = 101325.0
DEFAULT_ATMOSPHERE_UNCERTAINTY_PA = 2000.0
P = tuple[Any, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class InstrumentSpec:
    """An instrument: its model and, on a real bench, its VISA resource."""

    name: str
    model: str
    resource: str | None = None
    address: int | None = None  # MKS RS-485 address; an Alicat's unit ID (1 = A ... 26 = Z)


@dataclass(frozen=True)
class VolumeSpec:
    """A volume under test or of the rig, with its calibrated size and uncertainty."""

    name: str
    size_m3: float
    uncertainty_m3: float = 0.0


@dataclass(frozen=True)
class ChannelSpec:
    """A named measurement channel: which instrument channel, what it measures, where."""

    name: str
    instrument: str
    channel: int
    measures: str
    volume: str | None = None
    resolution_pa: float | None = None  # the smallest pressure step the channel reports
    noise_pa: float | None = None  # its white noise (1 σ)
    accuracy: float | None = None  # its relative accuracy, a fraction of the reading (0.0025 = 0.25 %)
    # A differential head: p(volumes[0]) − p(volumes[1]), signed, within ± full_scale_pa.
    volumes: tuple[str, str] | None = None
    full_scale_pa: float | None = None
    # Its zero's declared stability: a bound on the drift rate, and the shift per kelvin of
    # ambient (None: its certificate's, else its model's; rig.bench_gauges.zero_stability).
    zero_stability_pa_s: float | None = None
    zero_temperature_coefficient_pa_k: float | None = None


@dataclass(frozen=True)
class ValveSpec:
    """A valve on a relay channel, between two places (volumes or outside connections)."""

    name: str
    instrument: str
    channel: int
    between: tuple[str, str]
    normally_open: bool = False  # a hatch held open until its relay closes it
    position: PositionFeedback | None = None  # limit switches, if the valve has them


@dataclass(frozen=True)
class BenchSpec:
    """A whole bench file, validated; ``doc`` keeps the parsed YAML for the physics part."""

    name: str
    source: str
    instruments: dict[str, InstrumentSpec]
    volumes: dict[str, VolumeSpec]
    channels: dict[str, ChannelSpec]
    valves: dict[str, ValveSpec]
    max_pressure_pa: float
    min_pressure_pa: float
    safe_state: dict[str, bool]  # valve name → open
    # How long an opened valve may take to show in the pressures before it counts as stuck.
    valve_response_s: float = 10.0
    # How long the safe state may take to bring its vented volumes to the atmosphere.
    vent_time_s: float = 600.0
    calibrations: dict[str, Calibration] = field(default_factory=dict)  # channel name → calibration
    reference_leaks: dict[str, ReferenceLeak] = field(default_factory=dict)  # valve name → leak
    temperature_drift_k_s: float = DEFAULT_TEMPERATURE_DRIFT_K_S
    description: str = ""
    doc: Doc | None = field(default=None, repr=False, compare=False)
    # The atmosphere's pressure where the bench stands, and how far it may be off (a bound).
    atmosphere_pa: float = STANDARD_ATMOSPHERE_PA
    atmosphere_uncertainty_pa: float = DEFAULT_ATMOSPHERE_UNCERTAINTY_PA
    # The VISA backend its instruments are reached through ("@py", "@ivi", a path); None: the default.
    visa_library: str | None = None

    @property
    def simulated(self) -> bool:
        """Whether the file has a physics part (it can run in simulation)."""
        return self.doc is not None and self.doc.get(("physics",)) is not None

    def simulated_date(self) -> dt.date | None:
        """The calendar day a simulation of this bench starts on (``physics.start_date``), if given.

        In simulation, calibrations are checked against this day, so a simulated bench's
        certificates do not expire with the wall calendar and tests stay reproducible.
        """
        if self.doc is None or self.doc.get(("physics", "start_date")) is None:
            return None
        return parse_date(self.doc, ("physics", "start_date"))


def load_bench(path: str | Path) -> BenchSpec:
    """Read and validate a bench file; its problems, all of them, raise :class:`LocatedError`
    (:class:`rig.located_yaml.LocatedProblems` when there are several)."""
    doc = load(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a bench file is a mapping of bench:, instruments:, volumes: ...")
    problems: list[LocatedError] = []
    attempt(problems, lambda: doc.mapping((), allowed=TOP_KEYS, required=frozenset({"bench", "instruments"})))
    attempt(problems, lambda: doc.mapping(("physics",), allowed=PHYSICS_KEYS))
    instruments = _section(doc, problems, "instruments", lambda n, p: _instrument(doc, n, p), required=True)
    volumes = _section(doc, problems, "volumes", lambda n, p: _volume(doc, n, p))
    # An item that refers to a refused one is not checked: "unknown instrument 'daq'" would
    # only echo the instrument's own problem.
    channels = _section(
        doc,
        problems,
        "channels",
        lambda n, p: _channel(doc, n, p, instruments.built, volumes.built),
        lambda n, p: (
            instruments.spoils(doc.get((*p, "instrument"))) or volumes.spoils(doc.get((*p, "volume")))
        ),
    )
    problems += wiring.one_name_per_input(doc, "channels", channels.built, "one input read under two names")
    valves = _section(
        doc,
        problems,
        "valves",
        lambda n, p: _valve(doc, n, p, instruments.built),
        lambda n, p: instruments.spoils(doc.get((*p, "instrument"))),
    )
    # Two valves on one relay move together: commanding one would silently move the other.
    problems += wiring.one_name_per_input(doc, "valves", valves.built, "moving one would move the other")
    problems += wiring.switch_inputs_free(doc, instruments.built, channels.built, valves.built)
    limits = attempt(problems, lambda: _limits(doc))
    safe = (
        None
        if valves.unreadable
        else attempt(problems, lambda: wiring.safe_state(doc, valves.built, valves.refused))
    )
    drift = attempt(problems, lambda: _temperature_drift(doc))
    calibrations = _section(
        doc,
        problems,
        "calibrations",
        lambda n, p: parse_calibration(doc, n, p, channels.built),
        lambda n, p: channels.spoils(n),
    )
    leaks = _section(
        doc,
        problems,
        "reference_leaks",
        lambda n, p: parse_reference_leak(doc, n, p, valves.built),
        lambda n, p: valves.spoils(n),
    )
    atmosphere = attempt(problems, lambda: _atmosphere(doc))
    name = attempt(problems, lambda: doc.text(("bench",))) if doc.has(("bench",)) else None
    visa = attempt(problems, lambda: _visa_library(doc)) if doc.has(("visa_library",)) else None
    raise_all(problems)
    assert limits is not None and safe is not None and drift is not None and name is not None
    assert atmosphere is not None
    response, vent_time, max_p, min_p = limits
    return BenchSpec(
        name=name,
        source=str(path),
        instruments=instruments.built,
        volumes=volumes.built,
        channels=channels.built,
        valves=valves.built,
        max_pressure_pa=max_p,
        min_pressure_pa=min_p,
        safe_state=safe,
        valve_response_s=response,
        vent_time_s=vent_time,
        calibrations=calibrations.built,
        reference_leaks=leaks.built,
        temperature_drift_k_s=drift,
        description=doc.text(("description",), " ").strip(),
        doc=doc,
        atmosphere_pa=atmosphere[0],
        atmosphere_uncertainty_pa=atmosphere[1],
        visa_library=visa,
    )


def _visa_library(doc: Doc) -> str:
    """``visa_library: "@py"``: text; whether pyvisa can load it is checked when instruments are opened."""
    value = doc.text(("visa_library",))
    if not value.strip():
        raise doc.error(("visa_library",), 'expected a VISA library ("@py", "@ivi" or a path), got blanks')
    return value.strip()


def _atmosphere(doc: Doc) -> tuple[float, float]:
    """``atmosphere: {pressure: 101.3 kPa, uncertainty: 1 kPa}``: what a vented volume must read."""
    doc.mapping(("atmosphere",), allowed={"pressure", "uncertainty"})
    path = ("atmosphere", "pressure")
    pressure = doc.quantity(path, "pressure", f"{STANDARD_ATMOSPHERE_PA} Pa", positive=True)
    uncertainty = _not_negative(doc, ("atmosphere", "uncertainty"), "pressure", "an uncertainty")
    if doc.get(path) is not None and uncertainty is None:
        raise doc.error(("atmosphere",), "say how far the atmosphere may be off: `uncertainty: 1 kPa`")
    return pressure, DEFAULT_ATMOSPHERE_UNCERTAINTY_PA if uncertainty is None else uncertainty


@dataclass
class _Section(Generic[T]):
    """One part of a bench file (instruments, channels ...): the items that passed their checks."""

    built: dict[str, T]
    refused: set[str]  # items with a problem (reported), or referring to an item with one
    unreadable: bool = False  # the part itself is wrong (or missing where required), reported

    def spoils(self, name: object) -> bool:
        """Whether a reference to ``name`` would only echo a problem already reported."""
        return self.unreadable or name in self.refused


def _section(
    doc: Doc,
    problems: list[LocatedError],
    section: str,
    build: Callable[[str, P], T],
    spoiled: Callable[[str, P], bool] = lambda name, path: False,
    *,
    required: bool = False,
) -> _Section[T]:
    """Each item of ``section`` built, its problems added to ``problems``; ``spoiled`` items skipped.

    A ``required`` section that is missing is unreadable ("missing key" is reported already).
    """
    found: list[LocatedError] = []
    items = attempt(found, lambda: list(doc.items((section,))))
    if items is None or (required and not doc.has((section,))):
        problems += found
        return _Section({}, set(), unreadable=True)
    part: _Section[T] = _Section({}, set())
    for name, path in items:
        item = None if spoiled(name, path) else attempt(found, partial(build, name, path))
        if item is None:
            part.refused.add(name)
        else:
            part.built[name] = item
    problems += found
    return part


def _limits(doc: Doc) -> tuple[float, float, float, float]:
    """(valve response s, vent time s, max pressure Pa, min pressure Pa): the interlocks' bounds."""
    limits = doc.mapping(("limits",), allowed={"max_pressure", "min_pressure", "valve_response", "vent_time"})
    response = doc.quantity(("limits", "valve_response"), "time", "10 s", positive=True) if limits else 10.0
    vent_time = doc.quantity(("limits", "vent_time"), "time", "10 min", positive=True) if limits else 600.0
    max_p = doc.quantity(("limits", "max_pressure"), "pressure", "1e9 Pa") if limits else 1e9
    min_p = doc.quantity(("limits", "min_pressure"), "pressure", "0 Pa") if limits else 0.0
    if min_p < 0.0:
        raise doc.error(("limits", "min_pressure"), "an absolute pressure cannot be negative")
    if min_p >= max_p:
        raise doc.error(("limits",), "min_pressure must be below max_pressure")
    return response, vent_time, max_p, min_p


def _temperature_drift(doc: Doc) -> float:
    environment = doc.mapping(("environment",), allowed={"temperature_drift"})
    if environment.get("temperature_drift") is None:
        return DEFAULT_TEMPERATURE_DRIFT_K_S
    drift = doc.quantity(("environment", "temperature_drift"), "temperature drift")
    if drift < 0.0:
        raise doc.error(("environment", "temperature_drift"), "a temperature drift bound cannot be negative")
    return drift


def _instrument(doc: Doc, name: str, p: tuple[Any, ...]) -> InstrumentSpec:
    doc.mapping(p, allowed={"model", "resource", "address"}, required=frozenset({"model"}))
    named = doc.text((*p, "model"))
    if named not in MODELS and broken_note(PLUGINS):
        # The model may be one a broken plugin would have brought: say so, with the known ones.
        known = ", ".join(sorted(MODELS))
        raise doc.error((*p, "model"), f"unknown model {named!r} (known: {known}){broken_note(PLUGINS)}")
    model = doc.choice((*p, "model"), set(MODELS))
    resource = doc.text((*p, "resource")) if doc.get((*p, "resource")) is not None else None
    address = wiring.address(doc, (*p, "address"), model) if doc.get((*p, "address")) is not None else None
    return InstrumentSpec(name, model, resource, address)


def _volume(doc: Doc, name: str, p: tuple[Any, ...]) -> VolumeSpec:
    doc.mapping(p, allowed={"size", "uncertainty"}, required=frozenset({"size"}))
    return VolumeSpec(
        name,
        doc.quantity((*p, "size"), "volume", positive=True),
        _not_negative(doc, (*p, "uncertainty"), "volume", "an uncertainty") or 0.0,
    )


def _not_negative(doc: Doc, path: tuple[Any, ...], kind: str, what: str) -> float | None:
    """The quantity at ``path`` (None if absent), refused if negative: ``what`` is a spread or a step."""
    if not doc.has(path):
        return None
    value = doc.quantity(path, kind)
    if value < 0.0:
        raise doc.error(path, f"{what} cannot be negative, got {doc.get(path)!r}")
    return value


def _accuracy(doc: Doc, path: tuple[Any, ...]) -> float | None:
    """A relative accuracy (None if absent): a fraction of the reading, strictly between 0 and 1."""
    if not doc.has(path):
        return None
    accuracy = doc.number(path)
    if not 0.0 < accuracy < 1.0:
        raise doc.error(
            path,
            "accuracy is a fraction of the reading between 0 and 1 (e.g. 0.0025 for 0.25 %), "
            f"got {accuracy:g}",
        )
    return accuracy


def _reference(doc: Doc, path: tuple[Any, ...], names: dict[str, Any], what: str) -> str:
    value = doc.text(path)
    if value not in names:
        known = ", ".join(sorted(names)) or "none"
        raise doc.error(path, f"unknown {what} {value!r} (this bench has: {known})")
    return value


def _channel(
    doc: Doc,
    name: str,
    p: tuple[Any, ...],
    instruments: dict[str, InstrumentSpec],
    volumes: dict[str, VolumeSpec],
) -> ChannelSpec:
    doc.mapping(p, allowed=CHANNEL_KEYS, required=frozenset({"instrument"}))
    instrument = _reference(doc, (*p, "instrument"), instruments, "instrument")
    volume = (
        _reference(doc, (*p, "volume"), volumes, "volume") if doc.get((*p, "volume")) is not None else None
    )
    resolution = _not_negative(doc, (*p, "resolution"), "pressure", "a resolution")
    noise = _not_negative(doc, (*p, "noise"), "pressure", "noise")
    accuracy = _accuracy(doc, (*p, "accuracy"))
    measures = doc.choice((*p, "measures"), MEASURES)
    pair, full_scale = differential_part(doc, p, measures, volumes)
    channel = wiring.input_channel(doc, p, instruments[instrument], measures)
    drift = _not_negative(doc, (*p, "zero_stability"), "pressure drift", "a zero stability bound")
    tempco = _not_negative(
        doc,
        (*p, "zero_temperature_coefficient"),
        "pressure per temperature",
        "a temperature coefficient bound",
    )
    spec = ChannelSpec(name, instrument, channel, measures, volume, resolution, noise, accuracy)
    return replace(
        spec,
        volumes=pair,
        full_scale_pa=full_scale,
        zero_stability_pa_s=drift,
        zero_temperature_coefficient_pa_k=tempco,
    )


def _valve(doc: Doc, name: str, p: tuple[Any, ...], instruments: dict[str, InstrumentSpec]) -> ValveSpec:
    doc.mapping(
        p,
        allowed={"instrument", "channel", "between", "normally", "position"},
        required=frozenset({"instrument", "between"}),
    )
    instrument = _reference(doc, (*p, "instrument"), instruments, "instrument")
    if MODELS[instruments[instrument].model].kind != "daq":
        raise doc.error((*p, "instrument"), f"valves hang on relay channels; {instrument!r} has none")
    ends = doc.sequence((*p, "between"))
    if len(ends) != 2:
        raise doc.error((*p, "between"), "a valve sits between exactly two places")
    between = (doc.text((*p, "between", 0)), doc.text((*p, "between", 1)))
    normally_open = doc.choice((*p, "normally"), {"open", "closed"}, "closed") == "open"
    relay = wiring.relay_channel(doc, (*p, "channel"), instruments[instrument])
    position = None
    if doc.get((*p, "position")) is not None:
        daqs = {n for n, spec in instruments.items() if MODELS[spec.model].kind == "daq"}
        position = parse_position(doc, (*p, "position"), instrument, daqs)
    return ValveSpec(name, instrument, relay, between, normally_open, position)
