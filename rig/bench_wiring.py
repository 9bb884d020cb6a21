"""How a bench's inputs and valves are wired to its instruments, and what each model offers.

A bench file says which instrument channel reads each gauge or thermocouple and which relay
drives each valve; this checks that the instrument has that channel, of the right kind:

* a gauge controller has numbered sensor channels (TPG 361: 1, 362: 2, 366 and MKS 937B: 6)
  and reads pressures only;
* a DAQ970A (or 34972A, 34970A) reads its inputs on a 34901A multiplexer in slot 1 (channels
  101-120) and drives valves with a 34903A actuator in slot 2 (relays 201-220), as the driver
  and the simulated DAQ both take it: a valve on an input, or a thermocouple on a relay, is a
  channel that cannot do its job;
* a mass-flow meter or controller (Alicat) has one channel, 1, which measures ``flow`` (mol/s)
  and names the volume it feeds; nothing else is read on it, and ``flow`` is read on nothing else;
  its ``address:`` 1 to 26 is its unit ID, ``A`` to ``Z``;
* an MKS 937B answers on an RS-485 address from 1 to 253 (254 is the broadcast address:
  every controller on the line would answer, and the simulator does not);
* two valves on one relay, or two names for one input, are refused;
* the safe state names every valve: one it leaves out stays wherever the test put it.

The channels, layouts and addresses are each model's in :mod:`drivers.models`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drivers.models import MODELS, DaqLayout
from rig.located_yaml import Doc, LocatedError, raise_all

if TYPE_CHECKING:
    from rig.bench import ChannelSpec, InstrumentSpec, ValveSpec

P = tuple[Any, ...]


def address(doc: Doc, path: P, model: str) -> int:
    """The bus address at ``path`` of an instrument of ``model``, which must take one in range."""
    value = doc.integer(path)
    allowed = MODELS[model].addresses
    if allowed is None:
        addressed = sorted(name for name, m in MODELS.items() if m.addresses is not None)
        raise doc.error(path, f"a {model} takes no address (only {', '.join(addressed)} does)")
    if value not in allowed and MODELS[model].flow is not None:
        raise doc.error(path, f"an {model} address is its unit ID's letter, 1 (A) to 26 (Z), got {value}")
    if value not in allowed:
        raise doc.error(
            path,
            f"an {model} address is {allowed.start} to {allowed.stop - 1} ({allowed.stop} is the "
            f"broadcast address every controller on the line answers), got {value}",
        )
    return value


def input_channel(doc: Doc, p: P, instrument: InstrumentSpec, measures: str) -> int:
    """The channel (at ``p`` + ``channel``) of an input measuring ``measures`` on ``instrument``."""
    path = (*p, "channel")
    channel = doc.integer(path)
    where = f"channel {channel} of {instrument.name!r} ({instrument.model})"
    model = MODELS[instrument.model]
    if model.flow is not None:
        if channel != 1:
            raise doc.error(path, f"{where} does not exist: a {instrument.model} has one flow channel, 1")
        if measures != "flow":
            raise doc.error((*p, "measures"), f"{where} reads a flow, not a {measures}")
        if doc.get((*p, "volume")) is None:
            raise doc.error(p, "a flow channel names the volume its instrument feeds (volume: ...)")
        return channel
    if measures == "flow":
        raise doc.error(
            (*p, "measures"), f"{where} reads no flow: a flow channel is on a flow meter or controller"
        )
    if model.daq_layout is not None:
        layout = model.daq_layout
        if channel in layout.relays:
            raise doc.error(
                path,
                f"{where} is a relay of the {layout.actuator} actuator, which reads nothing: a {measures} "
                f"input is on the {layout.multiplexer} multiplexer, {_span(layout.inputs)}",
            )
        if channel not in layout.inputs:
            raise doc.error(
                path,
                f"{where} is not an input: the {layout.multiplexer} multiplexer has {_span(layout.inputs)}",
            )
        return channel
    count = model.gauge_channels
    if not 1 <= channel <= count:
        raise doc.error(path, f"{where} does not exist: a {instrument.model} has channels 1 to {count}")
    if measures != "pressure":
        raise doc.error((*p, "measures"), f"{where} reads a pressure gauge, not a {measures}")
    return channel


def daq_layout(instrument: InstrumentSpec) -> DaqLayout:
    """Where the inputs and relays of the DAQ ``instrument`` are (ValueError if it is no DAQ)."""
    layout = MODELS[instrument.model].daq_layout
    if layout is None:
        raise ValueError(f"{instrument.name!r} ({instrument.model}) is not a DAQ")
    return layout


def relay_channel(doc: Doc, path: P, instrument: InstrumentSpec) -> int:
    """The relay channel at ``path`` of a valve on the DAQ ``instrument``."""
    channel = doc.integer(path)
    layout = daq_layout(instrument)
    if channel not in layout.relays:
        name, mux = instrument.name, layout.multiplexer
        what = f"{name!r} has no channel {channel}"
        if channel in layout.inputs:
            what = f"channel {channel} of {name!r} is an input of its {mux} multiplexer, not a switch"
        raise doc.error(
            path,
            f"{what}: a valve hangs on a relay of the {layout.actuator} actuator, {_span(layout.relays)}",
        )
    return channel


def one_name_per_input(
    doc: Doc, section: str, specs: dict[str, ChannelSpec] | dict[str, ValveSpec], why: str
) -> list[LocatedError]:
    """A problem at each second name for one instrument channel (at that name's ``channel``)."""
    what = section.removesuffix("s")
    first: dict[tuple[str, int], str] = {}
    problems = []
    for name, spec in specs.items():
        taken = first.setdefault((spec.instrument, spec.channel), name)
        if taken != name:
            problems.append(
                doc.error(
                    (section, name, "channel"),
                    f"{what} {name!r} is on channel {spec.channel} of {spec.instrument!r}, "
                    f"like {what} {taken!r}: {why}",
                )
            )
    return problems


def safe_state(doc: Doc, valves: dict[str, ValveSpec], refused: set[str]) -> dict[str, bool]:
    """Valve name → open in the bench's safe state, which must name every valve exactly once.

    ``refused`` valves (their own problems reported) may be named, and may be left out.
    """
    problems: list[LocatedError] = []
    safe: dict[str, bool] = {}
    named = doc.mapping(("safe_state",))
    for valve in named:
        p = ("safe_state", valve)
        if valve in refused:
            continue
        if valve not in valves:
            why = f"safe_state names {valve!r}, which is not a valve of this bench"
            problems.append(doc.key_error(p, why))
            continue
        try:
            safe[valve] = doc.choice(p, {"open", "closed"}) == "open"
        except LocatedError as exc:
            problems.append(exc)
    missing = [valve for valve in valves if valve not in named]
    if missing:
        left_out = ", ".join(missing)
        problems.append(
            doc.error(
                ("safe_state",),
                f"safe_state leaves out {left_out}: a valve it does not name stays wherever the test left "
                "it; give every valve its safe position (open or closed)"
                if doc.has(("safe_state",))
                else f"no safe_state: a bench with valves names the safe position (open or closed) of each "
                f"one ({left_out})",
            )
        )
    raise_all(problems)
    return safe


def _span(channels: range) -> str:
    return f"channels {channels.start} to {channels.stop - 1}"


def switch_inputs_free(
    doc: Doc,
    instruments: dict[str, InstrumentSpec],
    channels: dict[str, ChannelSpec],
    valves: dict[str, ValveSpec],
) -> list[LocatedError]:
    """A problem at each limit switch that is not on a free DAQ input (a channel or switch reads it)."""
    taken = {(c.instrument, c.channel): f"channel {n!r}" for n, c in channels.items()}
    problems = []
    for name, valve in valves.items():
        if valve.position is None:
            continue
        switches = {"open": valve.position.open_channel, "closed": valve.position.closed_channel}
        layout = daq_layout(instruments[valve.position.instrument])
        for key, channel in switches.items():
            if channel is None:
                continue
            path = ("valves", name, "position", key)
            where = (valve.position.instrument, channel)
            if channel not in layout.inputs:
                inputs = f"{layout.multiplexer}, {_span(layout.inputs)}"
                problems.append(doc.error(path, f"a limit switch is read on an input of the {inputs}"))
            elif where in taken:
                problems.append(doc.error(path, f"input {channel} of {where[0]!r} is already {taken[where]}"))
            taken[where] = f"the {key} switch of valve {name!r}"
    return problems
