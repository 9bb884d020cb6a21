"""The engine as a running step sees it: :class:`rig.steps.StepContext` over one run.

A step kind (:mod:`rig.steps`) executes against this context, never against the
:class:`rig.engine.runner.Runner` itself: what a step may do to a run is the protocol's short
list, and a plugin's step gets exactly what ours get. Each method hands over to the runner
(sampling, valves, the record, the operator) or to :mod:`rig.engine.measuring` (fits and the
isolation behind a verdict), with the run's outcome for the measurements and findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rig.bench import BenchSpec
from rig.engine import measuring
from rig.engine.masters import MasterStore
from rig.engine.measuring import Fitted
from rig.engine.samples import SampleStore
from rig.engine.topology import joined
from rig.record.measurement import Measurement
from rig.steps import Step
from rig.steps.base import Brought
from rig.steps.context import Answer

if TYPE_CHECKING:
    from rig.engine.runner import Runner, RunOutcome

Values = dict[str, float | None]


class EngineContext:
    """A run, as its steps see it (the :class:`rig.steps.StepContext` protocol)."""

    def __init__(self, runner: Runner, outcome: RunOutcome) -> None:
        self._runner = runner
        self._outcome = outcome

    @property
    def bench(self) -> BenchSpec:
        """The bench the run is on."""
        return self._runner.bench

    @property
    def period_s(self) -> float:
        """The sample period."""
        return self._runner.period_s

    @property
    def series(self) -> SampleStore:
        """This step's samples so far, of the channels it keeps (:meth:`rig.steps.Step.kept_channels`)."""
        return self._runner.series

    @property
    def measurements(self) -> Mapping[str, Measurement]:
        """The run's measurements so far."""
        return self._outcome.measurements

    @property
    def findings(self) -> dict[str, Any]:
        """The run's findings beyond measurements."""
        return self._outcome.findings

    @property
    def masters(self) -> MasterStore | None:
        """Where master parts' offsets are kept (None: the run is not recorded)."""
        return self._runner.masters

    def brought(self, volume: str) -> Brought | None:
        """The level a step of this run last brought ``volume`` to, and what it read before."""
        return self._runner.brought.get(volume)

    def now(self) -> float:
        """The run's clock."""
        return self._runner.clock.now()

    def sample(self) -> Values:
        """Read, record and check every channel once."""
        return self._runner.sample()

    def hold(
        self,
        duration_s: float,
        until: Callable[[Values], bool] | None = None,
        each: Callable[[float, Values], None] | None = None,
    ) -> bool:
        """Sample for up to ``duration_s`` (see :meth:`rig.engine.runner.Runner.hold`)."""
        return self._runner.hold(duration_s, until, each)

    def set_valves(self, states: Mapping[str, bool]) -> None:
        """Move valves and watch them show."""
        self._runner.set_valves(dict(states))

    def valve_states(self) -> dict[str, bool]:
        """What the valve instruments report."""
        return self._runner.session.valve_states()

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record an event."""
        self._runner.event(kind, message, **data)

    def expect_toward(self, channel: str, target_pa: float, what: str) -> None:
        """Expect ``channel`` to head for ``target_pa`` now that a path is open (else a valve is stuck).

        The valves blamed if it does not are the open ones joining the channel's volume to
        everything it shares gas with: a seized one is among them.
        """
        runner = self._runner
        start = runner.last.get(channel)
        if start is not None:
            runner.watch.expect(channel, self._open_path(channel), start, target_pa, runner.clock.now(), what)

    def hold_pressure(self, instrument: str, pressure_pa: float) -> None:
        """Have a flow controller hold a pressure (confirmed by its readback), and record it."""
        self._runner.session.hold_pressure(instrument, pressure_pa)
        self._runner.event("flow", f"{instrument} holds {pressure_pa:.6g} Pa", instrument=instrument)

    def stop_flow(self, instrument: str) -> None:
        """Stop a flow controller's flow (confirmed by its readback), and record it."""
        self._runner.session.stop_flow(instrument)
        self._runner.event("flow", f"{instrument}: flow stopped", instrument=instrument)

    def _open_path(self, channel: str) -> tuple[str, ...]:
        bench, states = self._runner.bench, self._runner.watch.states
        volume = bench.channels[channel].volume
        if volume is None:
            return ()
        places = joined(bench, states, volume)
        return tuple(n for n, v in bench.valves.items() if states.get(n) and set(v.between) <= places)

    def ask(self, message: str) -> Answer:
        """Ask the operator; a stop request before or during the wait stops the run."""
        return self._runner.ask(message)

    def act(self, action: str) -> None:
        """Have the bench act out ``action`` (a simulated one can; a real one's operator did)."""
        if self._runner.act is not None:
            self._runner.act(action)

    def run_steps(self, steps: Sequence[Step]) -> None:
        """Run ``steps`` as executed steps of this run."""
        self._runner.steps(steps, self._outcome)

    def record(self, name: str, entry: Measurement) -> None:
        """Add a measurement to the outcome and the record, under ``name``."""
        self._outcome.measurements[name] = replace(entry, name=name)
        self._runner.event("measurement", f"{name}: {entry.outcome}", name=name, **entry.to_json())

    def fit_hold(
        self, name: str, channel: str, volume: str, duration_s: float, temperature: str | None, sign: float
    ) -> tuple[Fitted, tuple[float, float]]:
        """Hold with a live estimate, then fit the window."""
        return measuring._fit_hold(self._runner, name, channel, volume, duration_s, temperature, sign)

    def fit_window(
        self, channel: str, volumes: tuple[str, ...], temperature: str | None, start: float, sign: float = 1.0
    ) -> Fitted:
        """Fit the window since ``start``."""
        return measuring._fit_window(self._runner, channel, volumes, temperature, start, sign)

    def isolated(self, entry: Measurement, volumes: tuple[str, ...]) -> Measurement:
        """``entry``, its verdict withdrawn unless ``volumes`` show isolated."""
        return measuring._isolated(self._runner, entry, volumes)
