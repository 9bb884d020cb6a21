"""A bench seen through its drivers: named channels to read, named valves to move.

The engine never talks to a driver directly: it reads channels by their bench names (Pa,
K or V) and sets valves by name (open/closed), and this session turns that into relay
and gauge calls. A valve is open when its relay is energised, unless the bench says it
is normally open (a hatch), and every valve move is confirmed by readback in the driver.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from drivers.errors import DriverError
from drivers.registry import DRIVERS, open_instrument
from rig.bench import BenchSpec


class RigSession:
    """Open drivers for every instrument of a bench, addressed by channel and valve names."""

    def __init__(self, bench: BenchSpec, resources: dict[str, str], timeout_s: float = 2.0) -> None:
        self.bench = bench
        self._stack = ExitStack()
        self.instruments: dict[str, Any] = {}
        # The last read_all's failures: channel → what the driver said.
        self.read_errors: dict[str, str] = {}
        try:
            for name, spec in bench.instruments.items():
                inst = open_instrument(spec.model, resources[name], address=spec.address, timeout_s=timeout_s)
                self.instruments[name] = self._stack.enter_context(inst)
        except BaseException:
            self._stack.close()
            raise

    def identities(self) -> dict[str, str]:
        """Each instrument's own identification."""
        return {name: inst.identity() for name, inst in self.instruments.items()}

    def read(self, channel: str) -> float | None:
        """One channel in SI (Pa, K, V); None when the gauge reports no pressure (a dropout)."""
        spec = self.bench.channels[channel]
        inst = self.instruments[spec.instrument]
        if DRIVERS[self.bench.instruments[spec.instrument].model][2] == "gauge":
            reading = inst.read(spec.channel)
            return reading.pressure_pa if reading.ok else None
        if spec.measures == "temperature":
            return float(inst.temperature_k(spec.channel))
        return float(inst.volts(spec.channel))

    def read_all(self) -> dict[str, float | None]:
        """Every channel once; a channel whose instrument fails reads None (recorded as a dropout)."""
        values: dict[str, float | None] = {}
        errors: dict[str, str] = {}
        for name in self.bench.channels:
            try:
                values[name] = self.read(name)
            except DriverError as exc:
                values[name] = None
                errors[name] = f"{type(exc).__name__}: {exc}"
        self.read_errors = errors
        return values

    def transfer_stats(self) -> dict[str, dict[str, int]]:
        """What each driver's retries and reconnects hid so far (instrument → counts)."""
        return {
            name: {"retries": inst.stats.retries, "reconnects": inst.stats.reconnects}
            for name, inst in self.instruments.items()
        }

    def set_valves(self, states: dict[str, bool]) -> None:
        """Move valves (name → open), one confirmed relay command per instrument and direction."""
        groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
        for name, open_ in states.items():
            valve = self.bench.valves[name]
            groups[(valve.instrument, open_ != valve.normally_open)].append(valve.channel)
        for (instrument, energise), channels in groups.items():
            daq = self.instruments[instrument]
            if energise:
                daq.close_relays(channels)
            else:
                daq.open_relays(channels)

    def valve_states(self) -> dict[str, bool]:
        """Every valve's state (name → open) as its relay reads back."""
        out: dict[str, bool] = {}
        by_instrument: dict[str, list[str]] = defaultdict(list)
        for name, valve in self.bench.valves.items():
            by_instrument[valve.instrument].append(name)
        for instrument, names in by_instrument.items():
            closed = self.instruments[instrument].relays_closed([self.bench.valves[n].channel for n in names])
            for n in names:
                valve = self.bench.valves[n]
                out[n] = closed[valve.channel] != valve.normally_open
        return out

    def close(self) -> None:
        """Close every driver."""
        self._stack.close()

    def __enter__(self) -> RigSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
