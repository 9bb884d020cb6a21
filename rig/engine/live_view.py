"""The live terminal view of a running procedure: step, progress, channels, leak rate, events.

A :class:`LiveView` is a :class:`rig.engine.observer.RunObserver`. Its protocol methods
only store what they are given (the runner calls ``sampled()`` up to about a thousand
times per wall second in simulation); rendering happens in rich's own refresh thread,
a few times per second, from whatever was stored last. On a console that is not a
terminal (a pipe, CI) there is no live display: one plain line per step and the verdict.

    with LiveView(procedure.bench, clock.now) as view:
        outcome = execute(..., observers=[view]).outcome  # the runner calls view.finished()
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeGuard

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from rig.bench import BenchSpec
from rig.engine.observer import StepProgress
from rig.outcome import Outcome
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, leak_rate_unit_factor

if TYPE_CHECKING:
    from rig.engine.runner import RunOutcome

DROPOUT = "—"
EVENTS_SHOWN = 6
VERDICT_STYLE: dict[str, str] = {
    Outcome.PASS: "bold green",
    Outcome.FAIL: "bold red",
    Outcome.INCONCLUSIVE: "bold yellow",
    Outcome.ABORTED: "bold red",
}
EVENT_STYLE = {
    "fault": "bold red",
    "interlock": "bold red",
    "gross_leak": "bold red",
    "error": "bold red",
    "warning": "yellow",
    "operator": "cyan",
    "prompt": "cyan",
    "measurement": "bold",
}


@dataclass(frozen=True)
class _Estimate:
    """One live leak-rate estimate, with the step during which it arrived."""

    name: str
    rate_pa_m3_s: float
    stderr_pa_m3_s: float
    n: int
    step_index: int | None


class LiveView:
    """Shows a run as it happens on a rich console; use it as a context manager.

    ``clock_now`` is the run's clock (possibly virtual, faster than wall time): the view
    reads it only to advance the elapsed time between samples, never the wall clock.
    ``pv_temperature_k`` and ``sccm_reference_k`` fix how Pa·m³/s becomes sccm; the
    defaults are the ones the decay fit and procedure limits use (20 °C, 0 °C reference).
    ``prompts_wait`` is False when prompts are answered at once (simulation, ``--yes``): then
    they cost no unforeseeable time and the ETA does not say "unknown" for them.
    """

    def __init__(
        self,
        bench: BenchSpec,
        clock_now: Callable[[], float],
        console: Console | None = None,
        refresh_per_second: float = 4.0,
        *,
        pv_temperature_k: float = T_TWENTY_C_K,
        sccm_reference_k: float = T_ZERO_C_K,
        prompts_wait: bool = True,
    ) -> None:
        if not refresh_per_second > 0.0:
            raise ValueError(f"refresh_per_second must be positive, got {refresh_per_second}")
        self.bench = bench
        self.console = console if console is not None else Console()
        self.refresh_per_second = refresh_per_second
        self._clock_now = clock_now
        self.pv_temperature_k = pv_temperature_k
        self.sccm_reference_k = sccm_reference_k
        self.prompts_wait = prompts_wait
        # pint is slow; the conversion is linear, so look its factor up once.
        self._pa_m3_s_per_sccm = leak_rate_unit_factor(
            "sccm", pv_temperature_k=pv_temperature_k, sccm_reference_k=sccm_reference_k
        )
        # The runner's thread writes these and the refresh thread reads them. Each is
        # replaced by one reference assignment (atomic under the GIL) and read once per
        # render into a local, so a render never sees half an update and needs no lock.
        self._step: StepProgress | None = None
        self._sample: tuple[float, dict[str, float | None]] | None = None
        self._estimate: _Estimate | None = None
        self._events: deque[tuple[float, str, str]] = deque(maxlen=EVENTS_SHOWN)
        self._verdict: tuple[str, str] | None = None
        self._run_start_s: float | None = None
        self._finished_at_s: float | None = None
        self._live: Live | None = None

    # --- context manager -------------------------------------------------------------------------

    @property
    def interactive(self) -> bool:
        """Whether the view redraws itself (a terminal); otherwise it prints plain lines."""
        return self.console.is_terminal

    def __enter__(self) -> LiveView:
        if self.interactive:
            self._live = Live(
                console=self.console,
                get_renderable=self.renderable,
                auto_refresh=True,
                refresh_per_second=self.refresh_per_second,
                transient=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        live, self._live = self._live, None
        if live is not None:
            # stop() draws the final state once more and leaves it on screen (not transient).
            live.stop()

    # --- the observer protocol -------------------------------------------------------------------

    def step_started(self, progress: StepProgress) -> None:
        """Show the new step; off a terminal, print one plain line for it."""
        try:
            if self._run_start_s is None:
                self._run_start_s = progress.started_s
            self._step = progress
            if not self.interactive:
                self._print(Text(_step_line(progress, self.prompts_wait)))
        except Exception:  # a broken display must never stop a leak test
            pass

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Keep the sample for the next redraw (no copy, no formatting: this is the hot path)."""
        self._sample = (t_s, values)

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        """Keep the live estimate of measurement ``name``."""
        # Stored as given: odd values (NaN, a negative n) are the renderer's problem, not the runner's.
        step = self._step
        self._estimate = _Estimate(name, rate_pa_m3_s, stderr_pa_m3_s, n, getattr(step, "index", None))

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Keep the event among the last few shown."""
        self._events.append((t_s, kind, message))  # a bounded deque: the oldest falls out

    def finished(self, outcome: RunOutcome) -> None:
        """Show the verdict; print it directly when no live display will draw it."""
        try:
            verdict, reason = outcome.verdict.value, outcome.reason
            self._finished_at_s = self._now()
            self._verdict = (verdict, reason)
            if self._live is None:
                self._print(_verdict_line(verdict, reason))
            else:
                self._live.refresh()
        except Exception:
            pass

    # --- rendering -------------------------------------------------------------------------------

    def __rich__(self) -> RenderableType:
        return self.renderable()

    def renderable(self) -> RenderableType:
        """The whole view as of now (what the live display draws on each refresh)."""
        # An exception while building or laying out would kill rich's refresh thread and
        # freeze the display: both happen under a guard.
        return _Safe(lambda: self._render())

    def _now(self) -> float:
        """The run's clock time: the clock if it answers sensibly, else the latest time seen."""
        if self._finished_at_s is not None:
            return self._finished_at_s  # the final frame must not keep counting
        sample, step = self._sample, self._step
        seen = [t for t in (sample[0] if sample else None, step.started_s if step else None) if t is not None]
        latest = max(seen, default=0.0)
        try:
            now = float(self._clock_now())
        except Exception:
            return latest
        # Sample times come from the same clock; max() keeps elapsed time from going back
        # if the clock is read a hair before a sample it already stamped.
        return max(now, latest) if math.isfinite(now) else latest

    def _render(self) -> RenderableType:
        now = self._now()
        step, sample, estimate, verdict = self._step, self._sample, self._estimate, self._verdict
        # Each part is drawn on its own so that odd data in one (a bad value, a bad event)
        # costs that part only, not the whole view.
        parts = [_guarded(lambda: self._step_table(step, now, finished=verdict is not None))]
        parts.append(_guarded(lambda: self._channel_table(sample)))
        if estimate is not None:
            current = step is not None and estimate.step_index == step.index
            parts.append(_guarded(lambda: self._estimate_line(estimate, current)))
        events = list(self._events)
        if events:
            parts.append(_guarded(lambda: self._event_table(events)))
        if verdict is not None:
            parts.append(_guarded(lambda: _verdict_line(*verdict)))
        start = self._run_start_s
        title = self.bench.name if start is None else f"{self.bench.name} · t = {_duration(now - start)}"
        return Panel(Group(*parts), title=title, title_align="left")

    def _step_table(self, step: StepProgress | None, now: float, *, finished: bool) -> RenderableType:
        if step is None:
            return Text("waiting for the first step…", style="dim")
        elapsed = now - step.started_s
        elapsed = elapsed if math.isfinite(elapsed) and elapsed > 0.0 else 0.0
        span, bounded = _step_span(step)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column(no_wrap=True, justify="right")
        if span is None:
            bar = ProgressBar(total=None, pulse=not finished)
            times = _duration(elapsed)
        else:
            bar = ProgressBar(total=span, completed=min(elapsed, span))
            times = f"{_duration(elapsed)} / {'≤ ' if bounded else ''}{_duration(span)}"
        eta = "" if finished else _eta_text(step, elapsed, self.prompts_wait)
        grid.add_row(Text(_step_title(step), style="bold"), bar, times, eta)
        return grid

    def _channel_table(self, sample: tuple[float, dict[str, float | None]] | None) -> RenderableType:
        table = Table(box=None, padding=(0, 2), pad_edge=False, show_header=True, header_style="dim")
        table.add_column("channel", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True)
        table.add_column("volume", style="dim", no_wrap=True)
        values = sample[1] if sample is not None else {}
        for name, spec in self.bench.channels.items():
            # get() per bench channel, never iterating the runner's dict (it may be reused).
            value = values.get(name) if sample is not None else None
            if sample is None:
                cell = Text("", style="dim")
            elif value is None:
                cell = Text(DROPOUT, style="dim red")
            else:
                try:
                    cell = Text(_format_value(spec.measures, float(value)))
                    if not math.isfinite(value):
                        cell.stylize("red")
                except (TypeError, ValueError, OverflowError):
                    cell = Text(repr(value), style="red")
            table.add_row(name, cell, spec.volume or "")
        return table

    def _estimate_line(self, estimate: _Estimate, current: bool) -> RenderableType:
        rate, err = float(estimate.rate_pa_m3_s), float(estimate.stderr_pa_m3_s)
        per_sccm = self._pa_m3_s_per_sccm
        text = Text()
        text.append("leak rate ", style="dim")
        text.append(f"{estimate.name}: ", style="bold" if current else "dim")
        text.append(f"{_plus_minus(rate, err)} Pa·m³/s", style="bold" if current else "")
        text.append(f"  ({_plus_minus(rate / per_sccm, err / per_sccm)} sccm)")
        text.append(f"  n = {estimate.n}", style="dim")
        if not current:
            text.append("  (last measurement)", style="dim")
        return text

    def _event_table(self, events: list[tuple[float, str, str]]) -> RenderableType:
        table = Table(box=None, padding=(0, 2), pad_edge=False, show_header=False)
        table.add_column(style="dim", justify="right", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        start = self._run_start_s
        for t_s, kind, message in events:
            style = EVENT_STYLE.get(kind, "")
            when = _duration(t_s - start) if start is not None else f"{t_s:.1f} s"
            table.add_row(when, Text(kind, style=style or "dim"), Text(message, style=style))
        return table

    def _print(self, text: Text) -> None:
        # soft_wrap: a log line stays one line whatever the console's width.
        self.console.print(text, soft_wrap=True, highlight=False)


# --- formatting helpers ----------------------------------------------------------------------------


class _Safe:
    """Renders what ``build`` returns, or one red line saying why it could not."""

    def __init__(self, build: Callable[[], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        try:
            # list(): rich renders lazily, and a failure must surface here, inside the guard.
            segments = list(console.render(self.build(), options))
        except Exception as exc:
            segments = list(console.render(Text(f"live view cannot draw: {exc!r}", style="red"), options))
        yield from segments


def _guarded(draw: Callable[[], RenderableType]) -> RenderableType:
    try:
        return draw()
    except Exception as exc:
        return Text(f"cannot draw: {exc!r}", style="red")


def _step_title(step: StepProgress) -> str:
    return f"step {step.index}/{step.total} · {step.name} ({step.kind})"


def _step_span(step: StepProgress) -> tuple[float | None, bool]:
    """The step's expected length and whether it is only an upper bound (max_s)."""
    if _positive(step.nominal_s):
        return step.nominal_s, False
    if _positive(step.max_s):
        return step.max_s, True
    return None, False


def _positive(seconds: float | None) -> TypeGuard[float]:
    return seconds is not None and math.isfinite(seconds) and seconds > 0.0


def _eta_text(step: StepProgress, elapsed: float, prompts_wait: bool = True) -> str:
    """The time left: the known part, then what steps ending on a condition may add at most.

    ``ETA 30:00 + up to 15:00`` for 30 min of fixed steps and fills or pump-downs whose
    timeouts sum to 15 min; ``+ unknown`` when a step waits with no bound (an operator's prompt).
    """
    known = max(0.0, step.remaining_after_s)
    extra = max(0.0, step.extra_after_s)
    if _positive(step.nominal_s):
        known += max(0.0, step.nominal_s - elapsed)
        if _positive(step.max_s) and step.max_s > step.nominal_s:  # a watch that may be extended
            extra += max(0.0, step.max_s - max(step.nominal_s, elapsed))
    elif _positive(step.max_s):
        extra += max(0.0, step.max_s - elapsed)
    text = f"ETA {_duration(known)}"
    if extra > 0.0:
        text += f" + up to {_duration(extra)}"
    if prompts_wait and (step.waits_unbounded or step.unbounded_after):
        text += " + unknown (operator prompts)"
    return text


def _step_line(step: StepProgress, prompts_wait: bool = True) -> str:
    """The plain line printed off a terminal when a step starts."""
    span, bounded = _step_span(step)
    length = f" · {'≤ ' if bounded else ''}{_duration(span)}" if span is not None else ""
    return f"{_step_title(step)}{length} · {_eta_text(step, 0.0, prompts_wait)}"


def _verdict_line(verdict: str, reason: str) -> Text:
    text = Text()
    text.append(verdict, style=VERDICT_STYLE.get(verdict, "bold"))
    text.append(f" — {reason}")
    return text


def _duration(seconds: float) -> str:
    """h:mm:ss (m:ss under an hour); clock seconds, rounded to the second."""
    if not math.isfinite(seconds):
        return "?"
    sign, total = ("-" if seconds < 0 else ""), round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def _sig(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, trailing zeros kept (steady width as it changes)."""
    if not math.isfinite(x):
        return str(x)
    if x == 0.0:
        return "0"
    rounded = float(f"{x:.{digits - 1}e}")  # round first: 99.9996 must become 100.00, not 100.000
    exponent = math.floor(math.log10(abs(rounded)))
    if -3 <= exponent < digits:
        return f"{rounded:.{max(0, digits - 1 - exponent)}f}"
    return f"{rounded:.{digits - 1}e}"


def _plus_minus(value: float, err: float) -> str:
    """``value ± err``: 3 significant digits, the error to the value's decimals when fixed-point."""
    shown = _sig(value, 3)
    if "e" not in shown and math.isfinite(value) and math.isfinite(err) and value != 0.0:
        decimals = len(shown.partition(".")[2])
        err_shown = f"{abs(err):.{decimals}f}"
        # An error too small for the value's decimals would read as an exact "± 0.00".
        if float(err_shown) != 0.0 or err == 0.0:
            return f"{shown} ± {err_shown}"
    return f"{shown} ± {_sig(abs(err), 2)}"


def _format_pressure(pa: float) -> str:
    """Pa below 1 kPa, kPa up to 1 MPa, MPa above; 5 significant digits."""
    scaled = abs(pa)
    if not math.isfinite(pa) or scaled < 1e3:
        return f"{_sig(pa, 5)} Pa"
    if scaled < 1e6:
        return f"{_sig(pa / 1e3, 5)} kPa"
    return f"{_sig(pa / 1e6, 5)} MPa"


def _format_value(measures: str, value: float) -> str:
    """A channel value (SI inside: Pa, K, V, mol/s) as the operator reads it."""
    if measures == "pressure":
        return _format_pressure(value)
    if measures == "temperature":
        return f"{value - 273.15:.2f} °C"
    if measures == "voltage":
        return f"{_sig(value, 5)} V"
    if measures == "differential_pressure":
        return f"{_sig(value, 5)} Pa"  # signed and small: never in kPa
    if measures == "flow":
        return f"{_sig(value, 5)} mol/s"
    return _sig(value, 5)
