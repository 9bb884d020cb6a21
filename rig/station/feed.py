"""One run, as the station's pages see it: an observer of the run's event stream that posts to the hub.

The runner calls an observer between samples, up to about a thousand times per wall second in
a simulation, and an observer must return quickly and never raise. So samples and live leak-rate
estimates are only stored here, and posted together at most every ``flush_s`` of wall time (or
as soon as anything else happens, which keeps the order of what the page is told). Everything
else is posted as it comes. The feed also keeps the run's state as of now (step, estimates,
recent events, prompt, verdict) for a page that opens mid-run; its trace comes from the record.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rig.station.hub import Hub, Message
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, leak_rate_unit_factor

if TYPE_CHECKING:
    from rig.engine.observer import StepProgress
    from rig.engine.runner import RunOutcome

# A page's refresh: samples arriving faster than this are sent in batches.
FLUSH_S = 0.2
EVENTS_KEPT = 300  # the events a page opened mid-run is shown (the record has them all)


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as None and every unknown object as text (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    try:
        number = float(value)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


@lru_cache(maxsize=4096)
def t95(dof: int) -> float:
    """The two-sided 95 % quantile of Student's t with ``dof`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.975, dof))


class RunFeed:
    """Posts one run to ``hub`` as the run goes; ``header`` says what the run is (posted at ``begin``).

    ``limits`` gives each measurement's limit (Pa·m³/s) for the live estimate's comparison.
    """

    def __init__(
        self,
        hub: Hub,
        header: dict[str, Any],
        limits: Mapping[str, float | None],
        *,
        flush_s: float = FLUSH_S,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.header = header
        self.limits = dict(limits)
        self.flush_s = flush_s
        self._wall = wall
        self._lock = threading.Lock()
        self._times: list[float] = []
        self._values: dict[str, list[float | None]] = {}
        self._estimates: dict[str, tuple[float, float, int]] = {}
        self._last_flush = wall()
        self._pa_m3_s_per_sccm = leak_rate_unit_factor(
            "sccm", pv_temperature_k=T_TWENTY_C_K, sccm_reference_k=T_ZERO_C_K
        )
        # The run as of now, for a page that opens mid-run.
        self.step: dict[str, Any] | None = None
        self.estimates: dict[str, dict[str, Any]] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.prompt: dict[str, Any] | None = None
        self.finished_message: dict[str, Any] | None = None

    @property
    def run_id(self) -> str | None:
        """The record's id (None: not recorded)."""
        run_id = self.header.get("run_id")
        return run_id if isinstance(run_id, str) else None

    def begin(self, run_id: str | None) -> None:
        """The run has begun and is recorded as ``run_id``: tell the pages what it is."""
        self.header["run_id"] = run_id
        self._post({"type": "run", **self.header})

    def state(self) -> dict[str, Any]:
        """What a page opened now needs besides the trace (the record has that)."""
        with self._lock:
            return {
                "run": self.header,
                "step": self.step,
                "estimates": dict(self.estimates),
                "events": list(self.events),
                "prompt": self.prompt,
                "finished": self.finished_message,
            }

    # --- prompts (the station's broker tells the feed) -------------------------------------------

    def prompt_opened(self, prompt_id: int, message: str) -> None:
        """A prompt waits for the operator."""
        posted = {"type": "prompt", "id": prompt_id, "message": message, "run_id": self.run_id}
        self.prompt = posted
        self._post(posted)

    def prompt_closed(self, prompt_id: int, answer: Mapping[str, Any] | None) -> None:
        """The prompt was answered (``answer``: the record's fields) or withdrawn (None: the run stopped)."""
        self.prompt = None
        self._post({"type": "prompt_closed", "id": prompt_id, "answer": answer, "run_id": self.run_id})

    # --- the observer protocol (the runner's thread) ---------------------------------------------

    def step_started(self, progress: StepProgress) -> None:
        """Post the step and its progress."""
        self.step = {"type": "step", "run_id": self.run_id, **json_safe(asdict(progress))}
        self._post(self.step)

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Keep the sample; post the batch when a page is due one."""
        with self._lock:
            self._times.append(t_s)
            count = len(self._times)
            for name, value in values.items():
                column = self._values.setdefault(name, [None] * (count - 1))
                column.append(value)
            for column in self._values.values():
                if len(column) < count:  # a channel this sample did not carry
                    column.append(None)
        if self._wall() - self._last_flush >= self.flush_s:
            self.flush()

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """Keep the live estimate; it goes out with the next batch."""
        with self._lock:
            self._estimates[name] = (rate_pa_m3_s, stderr_pa_m3_s, n)

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Post the event (after the samples before it)."""
        posted = {"type": "event", "run_id": self.run_id, "t": t_s, "kind": kind, "message": message}
        posted["data"] = json_safe(data)
        self.events.append(posted)
        self._post(posted)

    def finished(self, outcome: RunOutcome) -> None:
        """Post the verdict, with the measurements' outcomes."""
        measurements = {
            name: {
                "outcome": None if m.outcome is None else m.outcome.value,
                "value_pa_m3_s": m.value_pa_m3_s,
                "limit_pa_m3_s": m.limit_pa_m3_s,
            }
            for name, m in outcome.measurements.items()
        }
        self.finished_message = {
            "type": "finished",
            "run_id": self.run_id,
            "verdict": outcome.verdict.value,
            "reason": outcome.reason,
            "measurements": json_safe(measurements),
        }
        self._post(self.finished_message)

    # --- posting ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Post the samples and estimates kept since the last batch."""
        with self._lock:
            times, values, estimates = self._times, self._values, self._estimates
            self._times, self._values, self._estimates = [], {}, {}
            self._last_flush = self._wall()
        if times:
            self.hub.post(
                {"type": "samples", "run_id": self.run_id, "t": json_safe(times), "values": json_safe(values)}
            )
        for name, (rate, stderr, n) in estimates.items():
            posted = self._estimate(name, rate, stderr, n)
            self.estimates[name] = posted
            self.hub.post(posted)

    def _post(self, message: Message) -> None:
        try:
            self.flush()  # what came before goes first
            self.hub.post(message)
        except Exception:  # a page's trouble must never stop a leak test
            pass

    def _estimate(self, name: str, rate: float, stderr: float, n: int) -> dict[str, Any]:
        """The live estimate with its 95 % interval (Student's t, n − 2), against the limit if any."""
        low = high = None
        if n > 2 and math.isfinite(rate) and math.isfinite(stderr):
            half = t95(n - 2) * abs(stderr)
            low, high = rate - half, rate + half
        limit = self.limits.get(name)
        against = None
        if limit is not None and low is not None and high is not None:
            # The rate is positive for gas leaving; the live interval is plain OLS, a hint only:
            # the verdict comes from the full budget when the measurement ends.
            against = "below" if high <= limit else "above" if low > limit else "straddles"
        per_sccm = self._pa_m3_s_per_sccm
        posted: dict[str, Any] = json_safe(
            {
                "type": "estimate",
                "run_id": self.run_id,
                "name": name,
                "rate_pa_m3_s": rate,
                "stderr_pa_m3_s": stderr,
                "n": n,
                "ci95_pa_m3_s": None if low is None else [low, high],
                "limit_pa_m3_s": limit,
                "against_limit": against,
                "sccm": {
                    "rate": rate / per_sccm,
                    "ci95": None if low is None or high is None else [low / per_sccm, high / per_sccm],
                    "limit": None if limit is None else limit / per_sccm,
                },
            }
        )
        return posted
