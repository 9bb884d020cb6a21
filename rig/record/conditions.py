"""What a run's measurements were tested at, derived from the run's own files when its results are written.

Every commercial tester prints the test conditions beside the leak rate: the gas, the pressure
at the start and end of the test, the fill, stabilisation and test times. The run directory
holds all of it (``procedure.yaml``, ``bench.yaml``, ``samples.csv``, ``events.jsonl``), so
:func:`with_conditions` reads it there, once, as the run finishes, and adds to each
measurement object of ``results.json``:

* ``test_pressure_start_pa`` / ``test_pressure_end_pa``: the first and last finite samples of
  the tested volume's absolute pressure gauge inside the fit window. Samples, not the fitted
  line: a temperature-compensated line is of p·T_ref/T, which is not the pressure the part
  held (2 bar filled at 20 °C reads 0.05 % off per 0.15 K), and a differential head reads no
  absolute pressure at all (its volume's gauge does). One sample's noise is negligible beside
  the pressure itself.
* ``gas``: the procedure's ``gas:`` (``air`` unless it says otherwise; the simulated bench's
  physics is air's, and mass-flow units such as lb/day are converted as air).
* ``fill_step``, ``fill_s``, ``stabilisation_s``, ``test_s``: the last ``fill`` or ``pump_down``
  before the window and how long it took, the time from its end to the window's start, and
  the window's length (from the ``step`` events, which are exact, not the sample times).
* ``temperature_channel``, ``temperature_min_k``, ``temperature_max_k``: a thermometer on the
  tested volume, its lowest and highest reading over the window.
* ``written_unit``: the unit the procedure wrote the measurement's ``limit:`` in (its step's,
  by name; else the limit text that reads as exactly its limit); a measurement without a limit
  takes the one unit all the procedure's limits are written in, if they agree.

What a file does not say is left out, never guessed; a key the measurement already states is
kept as it is. Nothing here raises on a damaged or missing file: the results must be written.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rig.errors import InputError
from rig.record.event_lines import event_lines
from rig.record.measurement import CONDITION_KEYS
from rig.record.recorded import mapping, number, pair, text
from rig.record.run_samples import RunSamples, parse_samples
from rig.units import T_TWENTY_C_K, leak_rate_unit_factor, parse_leak_rate

DEFAULT_GAS = "air"
FILL_KINDS = ("fill", "pump_down")
# A number as the procedure writes it before a leak-rate unit ("0.1 lb/day", "5e-3 mbar*L/s").
_LEADING_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


@dataclass(frozen=True)
class _Span:
    """One executed step: its kind and when it began and ended (clock seconds)."""

    kind: str
    start_s: float
    end_s: float


def with_conditions(run_dir: Path, results: Mapping[str, Any]) -> dict[str, Any]:
    """``results`` (a ``results.json`` object) with each measurement's test conditions added.

    Reads the run's files in ``run_dir``; a run directory without a ``procedure.yaml`` (no
    run's) is left as it is.
    """
    measured = results.get("measurements")
    procedure = _yaml(run_dir / "procedure.yaml")
    if not isinstance(measured, Mapping) or procedure is None:
        return dict(results)
    bench = _yaml(run_dir / "bench.yaml") or {}
    windows = [w for e in measured.values() if (w := pair(mapping(e).get("window_s"))) is not None]
    samples, last_s = _samples(run_dir / "samples.csv", windows)
    spans = _spans(run_dir / "events.jsonl", last_s)
    limits = written_limits(procedure)
    gas = text(procedure.get("gas")) or DEFAULT_GAS
    added = {}
    for name, entry in measured.items():
        if not isinstance(entry, Mapping):
            added[name] = entry
            continue
        unit = unit_of_step(str(name), procedure) or written_unit(number(entry.get("limit")), limits)
        derived = {"gas": gas, "written_unit": unit}
        window = pair(entry.get("window_s"))
        if window is not None:
            derived |= _timing(window, spans)
            if samples is not None:
                derived |= _readings(window, text(entry.get("channel")), bench, samples)
        new = {k: derived[k] for k in ("written_unit", *CONDITION_KEYS) if derived.get(k) is not None}
        added[name] = {**entry, **{k: v for k, v in new.items() if k not in entry}}
    return {**results, "measurements": added}


def written_limits(procedure: Mapping[str, Any]) -> list[tuple[float, str]]:
    """Every ``limit:`` the procedure writes, as (Pa·m³/s, the unit as written), in file order.

    Read as the validator reads a limit (:mod:`rig.steps.fields`: at 20 °C, sccm at 0 °C), so a
    measurement's recorded limit is exactly one of these values.
    """
    found = []
    for value in _values_of(procedure, "limit"):
        unit = _LEADING_NUMBER.sub("", value, count=1).strip()
        if not unit or unit == value.strip():
            continue
        try:
            leak_rate_unit_factor(unit, pv_temperature_k=T_TWENTY_C_K)
            rate = parse_leak_rate(value, "limit", pv_temperature_k=T_TWENTY_C_K)
        except InputError:
            continue
        found.append((rate, unit))
    return found


def unit_of_step(name: str, procedure: Mapping[str, Any]) -> str | None:
    """The leak-rate unit of the ``limit:`` of the step measurement ``name`` comes from, or None.

    A measurement is named after its step, or ``step.part`` (a compartment's segment): the step
    of that name whose ``limit`` reads ``<number> <unit>`` gives the unit, if it is a leak rate.
    """
    for step in dict.fromkeys((name, name.split(".", 1)[0])):
        for value in _limits_of_step(procedure, step):
            unit = _LEADING_NUMBER.sub("", value, count=1).strip()
            if not unit or unit == value.strip():
                continue
            try:
                leak_rate_unit_factor(unit, pv_temperature_k=T_TWENTY_C_K)
            except InputError:
                continue
            return unit
    return None


def _limits_of_step(node: object, step: str) -> Iterator[str]:
    """The ``limit`` texts of every step named ``step`` anywhere in a procedure's YAML."""
    if isinstance(node, Mapping):
        if node.get("name") == step and isinstance(node.get("limit"), str):
            yield node["limit"]
        for value in node.values():
            yield from _limits_of_step(value, step)
    elif isinstance(node, list):
        for item in node:
            yield from _limits_of_step(item, step)


def written_unit(limit_pa_m3_s: float | None, limits: Sequence[tuple[float, str]]) -> str | None:
    """The unit the procedure wrote ``limit_pa_m3_s`` in; without a limit, the one unit of all its limits.

    None when no written limit reads as it (a plugin's own field) or the limits' units differ.
    """
    if limit_pa_m3_s is not None:
        return next((u for rate, u in limits if math.isclose(rate, limit_pa_m3_s, rel_tol=1e-9)), None)
    units = {u for _, u in limits}
    return units.pop() if len(units) == 1 else None


def _values_of(node: object, key: str) -> Iterator[str]:
    """Every text value under ``key`` anywhere in a YAML tree, in document order."""
    if isinstance(node, Mapping):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _values_of(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values_of(item, key)


def _timing(window: tuple[float, float], spans: Sequence[_Span]) -> dict[str, Any]:
    """The fill before ``window`` (which and how long), the stabilisation after it, the test."""
    w0, w1 = window
    out: dict[str, Any] = {"test_s": w1 - w0}
    fills = [s for s in spans if s.kind in FILL_KINDS and s.end_s <= w0]
    if fills:
        fill = fills[-1]
        out |= {
            "fill_step": fill.kind,
            "fill_s": fill.end_s - fill.start_s,
            "stabilisation_s": w0 - fill.end_s,
        }
    return out


def _readings(
    window: tuple[float, float], channel: str | None, bench: Mapping[str, Any], samples: RunSamples
) -> dict[str, Any]:
    """The tested volume's pressure at the window's first and last samples, its temperature span."""
    channels = mapping(bench.get("channels"))
    inside = (samples.time_s >= window[0]) & (samples.time_s <= window[1])
    out: dict[str, Any] = {}
    spec = mapping(channels.get(channel)) if channel is not None else {}
    volumes = _volumes(spec)
    # A channel the bench does not describe is taken as the gauge it is recorded as.
    gauge = channel if spec.get("measures", "pressure") == "pressure" else _on(channels, volumes, "pressure")
    pressures = _finite(samples, gauge, inside)
    if pressures.size:
        out |= {"test_pressure_start_pa": float(pressures[0]), "test_pressure_end_pa": float(pressures[-1])}
    for thermometer in _all_on(channels, volumes, "temperature"):
        temperatures = _finite(samples, thermometer, inside)
        if temperatures.size:
            return out | {
                "temperature_channel": thermometer,
                "temperature_min_k": float(temperatures.min()),
                "temperature_max_k": float(temperatures.max()),
            }
    return out


def _volumes(channel: Mapping[str, Any]) -> list[str]:
    """The volume a channel reads, or a differential head's volumes (its test side first)."""
    one, many = channel.get("volume"), channel.get("volumes")
    if isinstance(one, str):
        return [one]
    return [v for v in many if isinstance(v, str)] if isinstance(many, list) else []


def _all_on(channels: Mapping[str, Any], volumes: Sequence[str], measures: str) -> list[str]:
    """The channels measuring ``measures`` on ``volumes``, the first volume's first."""
    return [
        str(name)
        for volume in volumes
        for name, spec in channels.items()
        if mapping(spec).get("measures") == measures and mapping(spec).get("volume") == volume
    ]


def _on(channels: Mapping[str, Any], volumes: Sequence[str], measures: str) -> str | None:
    found = _all_on(channels, volumes, measures)
    return found[0] if found else None


def _finite(samples: RunSamples, channel: str | None, inside: np.ndarray) -> np.ndarray:
    """``channel``'s finite samples where ``inside`` (none for a channel the run did not sample)."""
    if channel is None or channel not in samples.channels:
        return np.empty(0)
    values = samples.channels[channel][inside]
    finite: np.ndarray = values[np.isfinite(values)]
    return finite


def _spans(path: Path, last_s: float) -> list[_Span]:
    """The executed steps, from the ``step`` events: each ends where the next begins (the last at the end)."""
    starts: list[tuple[str, float]] = []
    for event in _events(path):
        t, message = number(event.get("t")), text(event.get("message"))
        if event.get("kind") == "step" and t is not None and message is not None:
            # The runner writes "<kind> at <file:line:col>"; the step's label may be its name.
            starts.append((message.partition(" at ")[0], float(t)))
    ends = [t for _, t in starts[1:]] + [max(last_s, starts[-1][1]) if starts else last_s]
    return [_Span(kind, t, e) for (kind, t), e in zip(starts, ends, strict=True)]


def _events(path: Path) -> Iterator[Mapping[str, Any]]:
    try:
        yield from event_lines(path)
    except (OSError, UnicodeDecodeError):
        return  # a missing or damaged events file: no step times


def _samples(path: Path, windows: Sequence[tuple[float, float]]) -> tuple[RunSamples | None, float]:
    """The samples inside ``windows``, and the time of the last sample (inf: none).

    Streamed: a run may hold millions of samples (days of them) and only the windows' are needed.
    A line a crash cut short, or any damage, is no sample; a file that cannot be read gives none.
    """
    kept: list[list[str]] = []
    last_s = math.inf
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = csv.reader(line for line in f if line.endswith("\n"))
            header = next(rows, None)
            for row in rows:
                try:
                    t = float(row[0])
                except (IndexError, ValueError):
                    continue
                last_s = t
                if any(w0 <= t <= w1 for w0, w1 in windows):
                    kept.append(row)
        return (parse_samples(header, kept) if header else None), last_s
    except (OSError, UnicodeDecodeError, csv.Error, InputError):
        return None, last_s


def _yaml(path: Path) -> Mapping[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, Mapping) else None
