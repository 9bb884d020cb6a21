"""``rig instruments probe``: connect to every instrument of a bench, show identity and a reading.

Exit 0 when every instrument answered; 3 (as ``rig run``'s instrument fault) when one or
more did not, after showing what the others said and one line on stderr naming them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import ExitStack
from typing import Any

from drivers.roles import Daq, FlowMeter, PressureGauge, RelayBank, Voltmeter
from rig.bench import BenchSpec, ChannelSpec, load_bench
from rig.bench_differential import DIFFERENTIAL, differential_reading
from rig.clock import ScaledClock
from rig.errors import InputError
from rig.execution.bench_access import instrument_resources

EXIT_UNANSWERED = 3


def register(sub: Any) -> None:
    """Add the ``instruments`` subcommand group."""
    inst = sub.add_parser("instruments", help="bench instruments", description="Bench instruments.")
    inst_sub = inst.add_subparsers(dest="instruments_command", required=True)
    probe = inst_sub.add_parser(
        "probe",
        help="connect to every instrument of a bench and read each channel once",
        description="Connect to every instrument of a bench; print its identity and one reading per channel.",
    )
    probe.add_argument("--bench", help="bench file (YAML; default: the config file's `bench`)")
    probe.add_argument(
        "--sim", action="store_true", help="start the bench's simulated servers and probe those"
    )
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    probe.add_argument(
        "--timeout", type=float, default=2.0, help="seconds to wait for each reply (default 2)"
    )
    probe.set_defaults(handler=run_probe)


def run_probe(args: argparse.Namespace) -> int:
    """Execute ``rig instruments probe``: exit 0 when every instrument answered, else 3."""
    if not 0.0 < args.timeout < math.inf:
        raise InputError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    bench = load_bench(args.bench)
    from drivers.transport import use_visa_library
    from rig.config import Config, chosen_visa_library

    config = getattr(args, "config", Config())
    library = chosen_visa_library(getattr(args, "visa_library", None), bench.visa_library, config)
    with ExitStack() as stack:
        stack.enter_context(use_visa_library(library))
        # The bench stays locked while it is probed: a run holding it refuses the probe, and back.
        resources = instrument_resources(
            bench, sim=args.sim, clock=ScaledClock(1.0), stack=stack, command="rig instruments probe"
        )
        result = probe(bench, resources, args.timeout)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    silent = [name for name, entry in result.items() if "error" in entry]
    if silent:
        print(
            f"rig instruments: {len(silent)} of {len(result)} instrument(s) did not answer: "
            + "; ".join(f"{name}: {result[name]['error']}" for name in silent),
            file=sys.stderr,
        )
        return EXIT_UNANSWERED
    return 0


def probe(bench: BenchSpec, resources: dict[str, str], timeout_s: float) -> dict[str, Any]:
    """Identity and one reading per channel of every instrument of ``bench``.

    An instrument that cannot be opened or does not answer gets ``identity`` None and an
    ``error``; the others are probed all the same.
    """
    from drivers.errors import DriverError

    out: dict[str, Any] = {}
    for name, spec in bench.instruments.items():
        try:
            out[name] = _probe_instrument(bench, name, resources[name], timeout_s)
        except DriverError as exc:
            out[name] = {"model": spec.model, "identity": None, "error": str(exc), "readings": {}}
    return out


def _probe_instrument(bench: BenchSpec, name: str, resource: str, timeout_s: float) -> dict[str, Any]:
    from drivers.errors import DriverError
    from drivers.models import MODELS
    from drivers.registry import open_instrument
    from drivers.roles import role_problem

    spec = bench.instruments[name]
    with open_instrument(spec.model, resource, address=spec.address, timeout_s=timeout_s) as inst:
        problem = role_problem(type(inst), spec.model, MODELS[spec.model].kind)
        if problem is not None:
            raise DriverError(problem)
        # Asked first: an instrument that does not answer costs one timeout, not one per channel.
        identity = inst.identity()
        readings: dict[str, dict[str, Any]] = {}
        for channel in (c for c in bench.channels.values() if c.instrument == name):
            try:
                readings[channel.name] = _read_channel(inst, channel)
            except DriverError as exc:  # one bad channel (an open thermocouple) must not hide the rest
                readings[channel.name] = {"value": None, "unit": _UNITS[channel.measures], "error": str(exc)}
        for valve in (v for v in bench.valves.values() if v.instrument == name):
            try:
                closed = _relays(inst).relays_closed([valve.channel])[valve.channel]
            except DriverError as exc:
                readings[valve.name] = {"value": None, "unit": "state", "error": str(exc)}
                continue
            is_open = closed != valve.normally_open
            readings[valve.name] = {"value": "open" if is_open else "closed", "unit": "state"}
    return {"model": spec.model, "identity": identity, "readings": readings}


_UNITS = {"pressure": "Pa", "temperature": "K", "voltage": "V", DIFFERENTIAL: "Pa", "flow": "mol/s"}


def _relays(inst: object) -> RelayBank:
    if not isinstance(inst, RelayBank):  # the bench reader hangs valves on relay banks only
        raise TypeError(f"{type(inst).__qualname__} is not a relay bank")
    return inst


def _gauge(inst: object) -> PressureGauge:
    if not isinstance(inst, PressureGauge):  # nor pressure channels on anything else
        raise TypeError(f"{type(inst).__qualname__} is not a pressure gauge")
    return inst


def _daq(inst: object) -> Daq:
    if not isinstance(inst, Daq):  # nor temperatures and voltages
        raise TypeError(f"{type(inst).__qualname__} is not a DAQ")
    return inst


def _flow_meter(inst: object) -> FlowMeter:
    if not isinstance(inst, FlowMeter):  # nor flow channels on anything but a flow instrument
        raise TypeError(f"{type(inst).__qualname__} is not a flow meter")
    return inst


def _read_channel(inst: object, channel: ChannelSpec) -> dict[str, Any]:
    if channel.measures == "flow":
        return _read_flow(_flow_meter(inst), channel.channel)
    if channel.measures == DIFFERENTIAL:
        return _read_differential(_daq(inst), channel)
    if channel.measures == "pressure":
        reading = _gauge(inst).read(channel.channel)
        value = reading.pressure_pa
        entry: dict[str, Any] = {
            "value": value if value is None or math.isfinite(value) else None,
            "unit": "Pa",
        }
        if not reading.ok:
            entry["state"] = reading.state.value
        return entry
    if channel.measures == "temperature":
        return {"value": _daq(inst).temperature_k(channel.channel), "unit": "K"}
    return {"value": _daq(inst).volts(channel.channel), "unit": "V"}


def _read_flow(inst: FlowMeter, channel: int) -> dict[str, Any]:
    # The flow in mol/s, and what the flow instrument's own sensors read of its line.
    reading = inst.read_flow(channel)
    entry: dict[str, Any] = {
        "value": reading.mass_flow_mol_s,
        "unit": "mol/s",
        "pressure_pa": reading.pressure_pa,
        "temperature_k": reading.temperature_k,
    }
    if reading.setpoint is not None:
        entry["setpoint"] = reading.setpoint
    if not reading.ok:
        entry["state"] = reading.state.value
    return entry


def _read_differential(inst: Voltmeter, spec: ChannelSpec) -> dict[str, Any]:
    # The head's output, scaled as the run reads it; a saturated one is out of range, not a value.
    reading = differential_reading(spec, float(inst.volts(spec.channel)))
    entry: dict[str, Any] = {"value": reading.pressure_pa if reading.ok else None, "unit": "Pa"}
    if not reading.ok:
        entry["state"] = reading.state.value
    return entry


def _print_table(result: dict[str, Any]) -> None:
    from rich.table import Table

    from rig.commands.consoles import output_console

    table = Table(title="Instruments")
    for column in ("instrument", "model", "identity", "channel", "reading"):
        table.add_column(column)
    for name, entry in result.items():
        if "error" in entry:
            table.add_row(name, entry["model"], "", "", f"error: {entry['error']}")
            continue
        first = True
        for channel, reading in entry["readings"].items():
            value = reading["value"]
            shown = f"{value:.6g} {reading['unit']}" if isinstance(value, float) else f"{value}"
            if "state" in reading:
                shown += f" ({reading['state']})"
            if "error" in reading:
                shown = f"error: {reading['error']}"
            table.add_row(
                name if first else "",
                entry["model"] if first else "",
                entry["identity"] if first else "",
                channel,
                shown,
            )
            first = False
    output_console().print(table)
