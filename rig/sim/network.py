"""A network of gas volumes joined by flow elements, integrated in time.

State: the moles n and gas temperature T of every volume, plus, for every reservoir,
the moles it has received (negative when it gave gas). Each element moves moles from
one end to the other, so the sum of all of them never changes: mass conservation is
built into the equations, not checked afterwards. Energy per volume (ideal gas,
rigid walls): inflow at T_in heats towards γ·T_in, outflow cools the gas left behind
by adiabatic expansion, and the walls pull T back with the volume's time constant:

    dT/dt = [Σ ṅ_in·(γ·T_in − T) − ṅ_out·(γ − 1)·T] / n + (T_wall − T)/τ(p)

A filled vessel therefore never exceeds the adiabatic bound of leak-physics §3.5.
Integration is SciPy's LSODA (switches between stiff and non-stiff methods), never stepping
past an instant where a valve moves or an element switches on (its critical time), so no
step straddles a discontinuity. One solver carries on from sample to sample and starts
afresh only at such an instant or after the elements were altered from outside
(``changed``). Starting afresh for every sample would cost the solver's warm-up each
time, and SciPy 1.17's LSODA keeps a reference to the work arrays of every start, so a
week of 1 Hz samples would grow the process by gigabytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.integrate import BDF, LSODA, OdeSolver

from rig.sim.conductance import GAMMA_AIR
from rig.sim.flows import Conductance, FlowElement, Outgassing, Valve
from rig.sim.nodes import GasVolume, Reservoir
from rig.units import R_GAS

FloatArray = npt.NDArray[np.float64]
# Moles below which a volume counts as empty for its energy balance (avoids 0/0).
EMPTY_MOLES = 1e-15
RTOL = 1e-9
ATOL_MOLES = 1e-18
ATOL_KELVIN = 1e-9
MAX_STEP_S = 600.0
# With no discontinuity ahead, a solver's critical time is this far on; reaching it, it restarts.
HORIZON_S = 1e7
# LSODA's own first step scales with the span to the critical time; from a far one it can stay
# in its non-stiff method at a stability-bound step of ~0.1 ms (seen on the ISS mockup). A
# solenoid's opening delay is tens of ms: a first step of 1 ms is small enough for any transient.
FIRST_STEP_S: float | None = 1e-3  # None: LSODA's own choice
# A solver that needs this many steps to reach the next sample crawls (a stiff stretch it did
# not switch methods for): it is replaced by SciPy's BDF for the rest of its stretch.
CRAWL_STEPS = 5000


# The coldest gas a trial state of the solver is taken to be (K).
MIN_TEMPERATURE_K = 1.0


@dataclass(frozen=True)
class _End:
    volume: int  # index into the volumes, or -1
    reservoir: int  # index into the reservoirs, or -1


class GasNetwork:
    """Volumes, reservoirs and the elements between them, advanced in simulation time."""

    def __init__(
        self,
        volumes: Sequence[GasVolume],
        reservoirs: Sequence[Reservoir],
        elements: Sequence[FlowElement],
        start_s: float = 0.0,
    ) -> None:
        self.volumes = list(volumes)
        self.reservoirs = list(reservoirs)
        self.elements = list(elements)
        names = [v.name for v in self.volumes] + [r.name for r in self.reservoirs]
        if len(set(names)) != len(names):
            raise ValueError("volume and reservoir names must be unique")
        self._volume_index = {v.name: i for i, v in enumerate(self.volumes)}
        self._reservoir_index = {r.name: i for i, r in enumerate(self.reservoirs)}
        self._ends = [(self._end(e.a, e), self._end(e.b, e)) for e in self.elements]
        nv = len(self.volumes)
        self._nv = nv
        self._size_m3 = np.array([v.volume_m3 for v in self.volumes])
        self._wall_k = np.array([v.wall_temperature_k for v in self.volumes])
        self.t = float(start_s)
        self.y = np.concatenate(
            [
                [v.initial_moles() for v in self.volumes],
                [v.start_temperature_k() for v in self.volumes],
                np.zeros(len(self.reservoirs)),
            ]
        )
        self._atol = np.concatenate(
            [np.full(nv, ATOL_MOLES), np.full(nv, ATOL_KELVIN), np.full(len(self.reservoirs), 1e6)]
        )
        self.initial_total_moles = self.total_moles()
        self._solver: OdeSolver | None = None
        self._solver_bound = math.inf  # the solver's critical time: it never steps past it
        self._bound_is_break = False  # whether that time is a discontinuity (else the horizon)
        self._last_step: Callable[[float], FloatArray] | None = None  # interpolant, last step
        self.starts = 0  # how many times the solver started afresh
        self.crawls = 0  # how many times a crawling LSODA was replaced by BDF
        self.rescues = 0  # how many times a failed LSODA step was taken over by BDF

    def _end(self, name: str, element: FlowElement) -> _End:
        if name in self._volume_index:
            return _End(self._volume_index[name], -1)
        if name in self._reservoir_index:
            return _End(-1, self._reservoir_index[name])
        kind = type(element).__name__
        raise ValueError(f"{kind} refers to {name!r}, which is neither a volume nor a reservoir")

    # --- what the instruments and tests read -------------------------------------------------

    def pressure_pa(self, name: str) -> float:
        """Pressure of a volume or reservoir now."""
        if name in self._volume_index:
            i = self._volume_index[name]
            return float(self.y[i] * R_GAS * self.y[self._nv + i] / self._size_m3[i])
        return self.reservoirs[self._reservoir_index[name]].state(self.t)[0]

    def temperature_k(self, name: str) -> float:
        """Gas temperature of a volume (or a reservoir) now."""
        if name in self._volume_index:
            return float(self.y[self._nv + self._volume_index[name]])
        return self.reservoirs[self._reservoir_index[name]].state(self.t)[1]

    def moles(self, name: str) -> float:
        """Moles in a volume now, or moles received so far by a reservoir."""
        if name in self._volume_index:
            return float(self.y[self._volume_index[name]])
        return float(self.y[2 * self._nv + self._reservoir_index[name]])

    def total_moles(self) -> float:
        """Moles in the volumes plus moles the reservoirs received: constant by construction."""
        return float(np.sum(self.y[: self._nv]) + np.sum(self.y[2 * self._nv :]))

    def valve(self, name_a: str, name_b: str) -> Valve:
        """The valve between two places (either order)."""
        for e in self.elements:
            if isinstance(e, Valve) and {e.a, e.b} == {name_a, name_b}:
                return e
        raise KeyError(f"no valve between {name_a!r} and {name_b!r}")

    # --- integration -------------------------------------------------------------------------

    def _rhs(self, t: float, y: FloatArray) -> FloatArray:
        nv = self._nv
        # A trial step of the solver may overshoot into no gas or a temperature below zero (seen
        # with the irregular sample times of a scaled clock during a pump-down): the flows of such
        # a state are those of the nearest physical one, not a math domain error.
        n = np.maximum(y[:nv], 0.0)
        temp = np.maximum(y[nv : 2 * nv], MIN_TEMPERATURE_K)
        p = n * R_GAS * temp / self._size_m3
        dy = np.zeros_like(y)
        heat = np.zeros(nv)  # Σ ṅ_in·(γT_in − T) − ṅ_out·(γ − 1)·T, per volume
        for element, (ea, eb) in zip(self.elements, self._ends, strict=True):
            pa, ta = self._state(ea, p, temp, t)
            pb, tb = self._state(eb, p, temp, t)
            flow = element.molar_flow(t, pa, ta, pb, tb)
            if flow == 0.0:
                continue
            src, dst, t_up = (ea, eb, ta) if flow > 0.0 else (eb, ea, tb)
            moved = abs(flow)
            if src.volume >= 0:
                dy[src.volume] -= moved
                heat[src.volume] -= moved * (GAMMA_AIR - 1.0) * temp[src.volume]
            else:
                dy[2 * nv + src.reservoir] -= moved
            if dst.volume >= 0:
                dy[dst.volume] += moved
                heat[dst.volume] += moved * (GAMMA_AIR * t_up - temp[dst.volume])
            else:
                dy[2 * nv + dst.reservoir] += moved
        tau = np.array([v.thermal_tau_at(float(pi)) for v, pi in zip(self.volumes, p, strict=True)])
        dy[nv : 2 * nv] = heat / np.maximum(n, EMPTY_MOLES) + (self._wall_k - temp) / tau
        return dy

    def _state(self, end: _End, p: FloatArray, temp: FloatArray, t: float) -> tuple[float, float]:
        if end.volume >= 0:
            return float(p[end.volume]), float(temp[end.volume])
        return self.reservoirs[end.reservoir].state(t)

    def _breaks(self, until_s: float) -> list[float]:
        """Instants in (t, until] where an element changes behaviour."""
        times: set[float] = set()
        for e in self.elements:
            if isinstance(e, Valve):
                times.update(e.change_times(self.t, until_s))
            elif isinstance(e, Conductance) and self.t < e.starts_at_s <= until_s:
                times.add(e.starts_at_s)
            elif isinstance(e, Outgassing) and self.t < e.since_s <= until_s:
                times.add(e.since_s)
        return sorted(times)

    def changed(self) -> None:
        """Say that elements were altered from outside (an action): integrate afresh from now."""
        self._solver = None

    def advance_to(self, t_s: float) -> None:
        """Integrate the network up to time ``t_s`` (no-op if it is not later than now)."""
        self.sample(np.array([t_s], dtype=np.float64))

    def sample(self, times_s: FloatArray) -> FloatArray:
        """Advance through ``times_s`` (increasing, not before now); return the state at each.

        Row k is the state vector at times_s[k]: moles of each volume, then gas
        temperatures, then the reservoirs' received moles. The network ends at the last time.
        """
        times = np.asarray(times_s, dtype=np.float64)
        out = np.empty((times.size, self.y.size))
        if times.size == 0:
            return out
        if np.any(np.diff(times) < 0.0) or times[0] < self.t - 1e-12:
            raise ValueError("sample times must increase and not lie before the network's time")
        k = 0
        while k < times.size and times[k] <= self.t:
            out[k] = self.y
            k += 1
        target = float(times[-1])
        while self.t < target:
            self._ensure_solver()
            end = min(target, self._solver_bound)
            while k < times.size and times[k] <= end:
                # Every sample time the solver's last step covers, interpolated in one call.
                reached = self._step_to(float(times[k]))
                stop = int(np.searchsorted(times, min(reached, end), side="right"))
                out[k:stop] = self._states_in_last_step(times[k:stop])
                k = stop
            self.y = self._state_at(end) if k == 0 or times[k - 1] != end else out[k - 1].copy()
            self.t = end
            if end >= self._solver_bound:
                for e in self.elements:
                    if isinstance(e, Valve):
                        e.settle(self.t)
                self._solver = None
        return out

    def _ensure_solver(self) -> None:
        """Carry the solver on if nothing has changed since it started, else start a fresh one."""
        due = [e for e in self.elements if isinstance(e, Valve) and e.change_times(-math.inf, self.t)]
        for valve in due:  # commanded with no delay: it moves now, so the solver must restart
            valve.settle(self.t)
        ahead = self._breaks(math.inf)
        following = ahead[0] if ahead else None
        # A solver bound for a discontinuity holds while that is still the next one; one bound
        # for the horizon, while no discontinuity has appeared before it.
        if self._bound_is_break:
            holds = following == self._solver_bound
        else:
            holds = following is None or following > self._solver_bound
        if self._solver is not None and not due and holds:
            return
        self._bound_is_break = following is not None
        self._solver_bound = following if following is not None else self.t + HORIZON_S
        self._solver = self._new_solver(LSODA, self.t, self.y)
        self.starts += 1

    def _new_solver(
        self, method: type[OdeSolver], t_s: float, y: FloatArray, *, own_first_step: bool = False
    ) -> OdeSolver:
        self._last_step = None
        first_step_s = None if own_first_step else FIRST_STEP_S
        return method(
            self._rhs,
            t_s,
            y,
            self._solver_bound,
            rtol=RTOL,
            atol=self._atol,
            max_step=MAX_STEP_S,
            first_step=None if first_step_s is None else min(first_step_s, self._solver_bound - t_s),
        )

    def _step_to(self, t_s: float) -> float:
        """Step the solver until it reaches ``t_s`` (never past its bound); return where it is."""
        solver = self._solver
        assert solver is not None
        steps = 0
        retried = False
        while solver.t < t_s:
            if steps == CRAWL_STEPS and isinstance(solver, LSODA):
                solver = self._solver = self._new_solver(BDF, solver.t, np.array(solver.y, dtype=np.float64))
                self.crawls += 1
            message = solver.step()
            steps += 1
            if solver.status == "failed" and isinstance(solver, LSODA):
                # LSODA can fail to converge on a stiff start from an odd time (a scaled clock's
                # sample times during a pump-down): BDF takes over from the last good state.
                solver = self._solver = self._new_solver(BDF, solver.t, np.array(solver.y, dtype=np.float64))
                self.rescues += 1
                continue
            if solver.status == "failed" and not retried:
                # A pump valve opened onto a pumpline that sat at its pump's ultimate pressure (where
                # the pump's flow has a kink) defeats both from a 1 ms first step; LSODA choosing its
                # own first step gets through. Only runs that would otherwise fail take this path.
                state = np.array(solver.y, dtype=np.float64)
                solver = self._solver = self._new_solver(LSODA, solver.t, state, own_first_step=True)
                retried = True
                self.rescues += 1
                continue
            if solver.status == "failed":
                self._solver = None  # never step a failed solver again: the next call starts afresh
                raise RuntimeError(f"gas network integration failed at t = {solver.t} s: {message}")
            self._last_step = solver.dense_output()
        return float(solver.t)

    def _states_in_last_step(self, times: FloatArray) -> FloatArray:
        """Rows of the state at ``times``, all within the solver's last step (its end exactly)."""
        solver = self._solver
        assert solver is not None
        rows = np.empty((times.size, self.y.size))
        at_end = times == solver.t
        rows[at_end] = solver.y
        inside = ~at_end
        if inside.any():
            assert self._last_step is not None
            rows[inside] = np.asarray(self._last_step(times[inside]), dtype=np.float64).T
        return rows

    def _state_at(self, t_s: float) -> FloatArray:
        """The state at ``t_s``, stepping the solver on as far as it needs."""
        self._step_to(t_s)
        row: FloatArray = self._states_in_last_step(np.array([t_s], dtype=np.float64))[0]
        return row
