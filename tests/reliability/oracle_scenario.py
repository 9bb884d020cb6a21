"""The oracle campaign's scenarios: what one run tries, as a small JSON-able dict, and how it is drawn.

A scenario is plain data so that it can be stored, replayed and shrunk deterministically::

    {"procedure": "pressure_decay", "seed": 14, "leak_factor": 1.0, "faults": [
        {"kind": "stuck_valve", "instrument": "daq", "channel": 201, "at": "start", "offset_s": 30.0},
        {"kind": "timeout", "instrument": "gauges", "at": "cleanup", "offset_s": 4.5, "duration_s": 12.0},
        {"kind": "stop", "presses": 2, "at": "step:decay#1", "offset_s": 60.0, "gap_s": 3.0}]}

* ``leak_factor`` multiplies the leak rate of the bench's first leak (the mockup's article seal,
  the ISS mockup's PrK hole): an orifice's diameter by its square root, a capillary's by its
  fourth root, a conductance by itself; an operator action that resizes that leak (the
  mockup's ``repair_seal``) is scaled alike. 1.0 is the bench as shipped.
* A fault is one of :data:`rig.sim.faults.KINDS` (``channel`` is the gauge channel or the
  valve's relay channel; ``magnitude`` the latency's delay in s, the zero shift in Pa or the
  drop's N; ``duration_s`` absent or null: it lasts) or an operator ``stop`` (Ctrl-C pressed
  ``presses`` times, ``gap_s`` apart).
* ``at`` anchors its start: ``start`` (t = 0), ``step:NAME#K`` (the K-th time a step called
  NAME starts, cleanup steps included), ``cleanup`` (the cleanup begins) or ``safe_state``
  (the safe state is commanded); ``offset_s`` after that.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rig.procedure.loader import load_procedure
from rig.steps import Step
from tests.engine.sim_runs import PROCEDURES

Scenario = dict[str, Any]
Fault = dict[str, Any]

# The leak-rate factors drawn (log-uniform), per procedure: a few decades around its limit. The
# mockup's seal passes the decay limits at 1 (0.6 × the limit at 2 bar); the ISS PrK hole is
# 14 × its segment limit, so there the range is shifted down.
LEAK_RANGES = {
    "pressure_decay": (1e-2, 1e2),
    "rate_of_rise": (1e-2, 1e2),
    "reference_leak_check": (1e-2, 1e2),
    "seal_repair_certification": (1e-2, 1e2),
    "compartment_isolation": (1e-3, 1e1),
}
# Kinds and their draw weights (a fault's effect on the run, not its frequency in the field).
KIND_WEIGHTS = {
    "latency": 1,
    "timeout": 3,
    "garbled": 2,
    "disconnect": 2,
    "drop": 1,
    "sensor_error": 2,
    "stuck_valve": 4,
    "zero_shift": 3,
    "stop": 3,
}
# Latency stays below the in-process drivers' timeout (the CLI's is longer), so that it is late
# replies on both paths; a latency beyond the timeout is a timeout, drawn as one.
LATENCY_S = (0.01, 0.08)


@dataclass(frozen=True)
class ProcedureInfo:
    """What the generator needs to know of one shipped procedure and its bench."""

    name: str
    bench: Path
    steps: tuple[tuple[str, float], ...]  # (anchor "step:NAME#K", estimated seconds) in order
    total_s: float
    instruments: tuple[str, ...]
    gauges: tuple[tuple[str, int], ...]  # (instrument, channel) of every pressure channel
    relays: tuple[tuple[str, int], ...]  # (instrument, relay channel) of every valve


def _estimate_s(step: Step) -> float:
    """Roughly how long a step runs (a fault drawn within it may also land in a later one)."""
    f = step.fields
    if step.kind in ("wait", "measure_decay"):
        return float(f["duration"])
    if step.kind == "reference_leak_check":
        return 2.0 * float(f["duration"]) + float(f.get("settle", 10.0))
    if step.kind == "compartment_isolation":
        return float(f["watch"]) + 10.0 * len(f["hatches"])
    if step.kind in ("fill", "pump_down", "stabilise", "vent"):
        return min(float(f.get("timeout", f.get("max", 300.0))), 300.0)
    return 5.0


@functools.cache
def info(procedure: str) -> ProcedureInfo:
    """The shipped ``procedure``'s steps and its bench's instruments, gauges and valves."""
    loaded = load_procedure(PROCEDURES / f"{procedure}.yaml")
    bench = loaded.bench
    seen: dict[str, int] = {}
    steps = []
    for step in _flat((*loaded.setup, *loaded.main)):
        name = str(step.fields.get("name", step.kind))
        seen[name] = seen.get(name, 0) + 1
        steps.append((f"step:{name}#{seen[name]}", _estimate_s(step)))
    assert bench.source is not None
    return ProcedureInfo(
        procedure,
        Path(bench.source),
        tuple(steps),
        sum(s for _, s in steps),
        tuple(bench.instruments),
        tuple((c.instrument, c.channel) for c in bench.channels.values() if c.measures == "pressure"),
        tuple((v.instrument, v.channel) for v in bench.valves.values()),
    )


def _flat(steps: tuple[Step, ...]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        out.extend(
            _flat(tuple(step.steps)) * int(step.fields.get("times", 1)) if step.kind == "repeat" else [step]
        )
    return out


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def _duration(rng: random.Random, brief: tuple[float, float], lasting: float) -> float | None:
    """A brief fault (ridden through, mostly) or, with probability ``lasting``, one that lasts."""
    return None if rng.random() < lasting else round(rng.uniform(*brief), 1)


def draw_fault(rng: random.Random, proc: ProcedureInfo) -> Fault:
    """One fault (or operator stop) of a random kind at a random moment of ``proc``."""
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    where = rng.random()
    if where < 0.3:
        at, offset = "start", rng.uniform(0.0, proc.total_s)
    elif where < 0.7:
        at, length = rng.choice(proc.steps)
        offset = rng.uniform(0.0, length)
    elif where < 0.9:
        at, offset = "cleanup", rng.uniform(0.0, 30.0)
    else:
        at, offset = "safe_state", rng.uniform(0.0, 20.0)
    fault: Fault = {"kind": kind, "at": at, "offset_s": round(offset, 1)}
    if kind == "stop":
        fault["presses"] = rng.choice((1, 2))
        if fault["presses"] == 2:  # an impatient operator presses again at once, a patient one later
            fault["gap_s"] = round(10.0 ** rng.uniform(math.log10(0.3), math.log10(90.0)), 1)
        return fault
    if kind in ("sensor_error", "zero_shift"):
        fault["instrument"], fault["channel"] = rng.choice(proc.gauges)
    elif kind == "stuck_valve":
        fault["instrument"], fault["channel"] = rng.choice(proc.relays)
    else:
        fault["instrument"] = rng.choice(proc.instruments)
    if kind == "latency":
        fault["magnitude"] = round(rng.uniform(*LATENCY_S), 3)
        fault["duration_s"] = round(rng.uniform(5.0, 60.0), 1)
    elif kind == "drop":
        # Each lost reply costs a driver timeout of wall time: one in 3 over 10 minutes is 7 minutes.
        fault["magnitude"] = float(rng.choice((10, 50)))
        fault["duration_s"] = round(rng.uniform(10.0, 300.0), 1)
    elif kind in ("timeout", "garbled", "disconnect", "sensor_error"):
        # Brief ones are ridden through (under the engine's 30 s), middling ones abort, some last.
        fault["duration_s"] = _duration(rng, (2.0, 25.0) if rng.random() < 0.6 else (25.0, 90.0), 0.3)
    elif kind == "stuck_valve":
        fault["duration_s"] = _duration(rng, (30.0, 1200.0), 0.8)
    elif kind == "zero_shift":
        fault["magnitude"] = _sig(rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(0.0, 4.7))
        fault["duration_s"] = _duration(rng, (5.0, 900.0), 0.5)
    return {k: v for k, v in fault.items() if v is not None}


def draw(rng: random.Random) -> Scenario:
    """A random scenario: procedure, leak size, one to three faults, seed."""
    procedure = rng.choice(list(LEAK_RANGES))
    low, high = LEAK_RANGES[procedure]
    proc = info(procedure)
    faults = [draw_fault(rng, proc) for _ in range(rng.choices((1, 2, 3), weights=(4, 3, 2))[0])]
    return {
        "procedure": procedure,
        "seed": rng.randrange(1000),
        "leak_factor": _sig(10.0 ** rng.uniform(math.log10(low), math.log10(high))),
        "faults": faults,
    }


def campaign(seed: int, count: int) -> list[tuple[str, Scenario]]:
    """``count`` scenarios drawn from one seeded generator, each with its id (``S<seed>-<n>``)."""
    rng = random.Random(seed)
    return [(f"S{seed}-{n:04d}", draw(rng)) for n in range(count)]


def describe(scenario: Scenario) -> str:
    """A one-line summary: procedure, seed, leak factor and the faults in short."""
    parts = []
    for f in scenario.get("faults", []):
        what = f["kind"] if f["kind"] == "stop" else f"{f['kind']} {f['instrument']}"
        if "channel" in f:
            what += f":{f['channel']}"
        if f["kind"] == "stop":
            what += f" x{f.get('presses', 1)}"
        if "magnitude" in f:
            what += f" ({f['magnitude']:g})"
        lasting = f"{f['duration_s']:g} s" if f.get("duration_s") is not None else "lasting"
        parts.append(
            f"{what} at {f['at']}+{f['offset_s']:g} s" + ("" if f["kind"] == "stop" else f", {lasting}")
        )
    leak = scenario.get("leak_factor", 1.0)
    return f"{scenario['procedure']} seed {scenario['seed']} leak x{leak:g}: " + (
        "; ".join(parts) or "no fault"
    )


# --- the bench of a scenario -------------------------------------------------------------------------


def _scaled(quantity: str, factor: float) -> str:
    number, _, unit = quantity.strip().partition(" ")
    return f"{float(number) * factor:.6g} {unit}".strip()


def bench_file(scenario: Scenario, directory: Path, faults: list[dict[str, Any]] | None = None) -> Path:
    """The scenario's bench (its leak resized) written into ``directory``, with ``faults:`` if given.

    ``faults`` are bench-file entries (``{instrument, kind, at: "12.5 s", ...}``); the in-process
    runs schedule theirs on the simulation instead (see :mod:`tests.reliability.oracle_play`).
    """
    source = info(scenario["procedure"]).bench
    doc = yaml.safe_load(source.read_text())
    factor = float(scenario.get("leak_factor", 1.0))
    if factor != 1.0:
        leak = doc["physics"]["leaks"][0]
        if "diameter" in leak:
            power = 0.25 if leak["kind"] == "capillary" else 0.5
            leak["diameter"] = _scaled(leak["diameter"], factor**power)
            for changes in doc["physics"].get("actions", {}).values():
                for change in changes:
                    if change.get("leak") == leak.get("name") and "diameter" in change:
                        change["diameter"] = _scaled(change["diameter"], factor**power)
        else:
            leak["conductance"] = _scaled(leak["conductance"], factor)
    if faults:
        doc["faults"] = faults
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def bench_fault(fault: Fault, at_s: float) -> dict[str, Any]:
    """A scenario fault as a bench file declares it, starting at ``at_s`` on the simulation clock."""
    entry: dict[str, Any] = {"instrument": fault["instrument"], "kind": fault["kind"], "at": f"{at_s!r} s"}
    if fault.get("duration_s") is not None:
        entry["duration"] = f"{fault['duration_s']!r} s"
    if "channel" in fault:
        entry["channel"] = fault["channel"]
    if fault["kind"] == "latency":
        entry["delay"] = f"{fault['magnitude']!r} s"
    elif fault["kind"] == "zero_shift":
        entry["shift"] = f"{fault['magnitude']!r} Pa"
    elif fault["kind"] == "drop":
        entry["every"] = round(fault["magnitude"])
    return entry


# Kinds that cost ``rig run`` (2 s driver timeout) seconds of wall time per failed read.
SLOW_IN_THE_CLI = frozenset({"timeout", "garbled", "disconnect", "drop"})


def cheap_in_the_cli(scenario: Scenario) -> bool:
    """Whether ``rig run`` plays ``scenario`` in seconds (no fault that waits out its timeouts)."""
    return not any(f["kind"] in SLOW_IN_THE_CLI for f in scenario.get("faults", []))
