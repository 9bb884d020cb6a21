"""The live view: what it shows for a run's progress, and that it never gets in the run's way."""

from __future__ import annotations

import io
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console, ConsoleOptions, RenderResult

from rig.bench import BenchSpec, load_bench
from rig.engine.live_view import LiveView
from rig.engine.observer import RunObserver, StepProgress
from rig.engine.runner import RunOutcome, RunVerdict
from rig.units import T_TWENTY_C_K, convert_leak_rate

ROOT = Path(__file__).resolve().parents[2]

# A sample of the mockup's channels: article at 2 bar, chamber near atmosphere, the reference
# gauge dropped out, temperatures near 20 °C (SI inside: Pa and K).
SAMPLE: dict[str, float | None] = {
    "p_chamber": 99_000.0,
    "p_article": 200_000.0,
    "p_reference": None,
    "t_chamber": 293.65,
    "t_article": 294.15,
}
FILL = StepProgress("fill article", "fill", 2, 5, started_s=40.0, max_s=600.0, remaining_after_s=1800.0)
DECAY = StepProgress(
    "decay", "measure_decay", 4, 5, started_s=1000.0, nominal_s=300.0, remaining_after_s=60.0
)


@pytest.fixture(scope="module")
def bench() -> BenchSpec:
    return load_bench(ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


def ended(verdict: str, reason: str) -> RunOutcome:
    """A run's final outcome, as the runner hands it to its observers."""
    return RunOutcome(RunVerdict(verdict), reason)


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120)


def shown(view: LiveView) -> str:
    """The view's current frame as plain text (no colours), the way an operator reads it."""
    out = Console(file=io.StringIO(), width=120, color_system=None)
    out.print(view.renderable())
    return written(out)


def written(console: Console) -> str:
    buffer = console.file
    assert isinstance(buffer, io.StringIO)
    return buffer.getvalue()


def test_is_a_run_observer(bench: BenchSpec) -> None:
    observer: RunObserver = LiveView(bench, Clock().now, console=terminal())
    assert observer is not None


def test_shows_the_step_its_progress_and_an_eta_bounded_by_the_steps_maximum(bench: BenchSpec) -> None:
    clock = Clock(100.0)
    view = LiveView(bench, clock.now, console=terminal())
    view.step_started(FILL)
    view.sampled(100.0, SAMPLE)
    text = shown(view)
    assert "step 2/5 · fill article (fill)" in text
    assert "1:00 / ≤ 10:00" in text  # 60 s into a fill that may last 600 s
    # The 1800 s of steps after it are known; the rest of the fill (540 s) is a bound, said apart.
    assert "ETA 30:00 + up to 9:00" in text


def test_a_nominal_step_gives_a_plain_eta_from_the_clock_not_from_wall_time(bench: BenchSpec) -> None:
    clock = Clock(1000.0)
    view = LiveView(bench, clock.now, console=terminal())
    view.step_started(DECAY)
    view.sampled(1000.0, SAMPLE)
    clock.t = 1120.0  # virtual time moves between samples; the view follows the clock
    text = shown(view)
    assert "2:00 / 5:00" in text
    assert "ETA 4:00" in text and "≤" not in text


def test_elapsed_follows_the_samples_when_the_clock_cannot_be_read(bench: BenchSpec) -> None:
    def broken() -> float:
        raise RuntimeError("clock gone")

    view = LiveView(bench, broken, console=terminal())
    view.step_started(DECAY)
    view.sampled(1030.0, SAMPLE)
    assert "0:30 / 5:00" in shown(view)


def test_shows_channel_values_in_operator_units_and_a_dropout_as_a_dash(bench: BenchSpec) -> None:
    view = LiveView(bench, Clock(100.0).now, console=terminal())
    view.step_started(FILL)
    view.sampled(100.0, {**SAMPLE, "p_reference": 12.3456})
    text = shown(view)
    assert "200.00 kPa" in text and "99.000 kPa" in text and "12.346 Pa" in text
    assert "20.50 °C" in text and "21.00 °C" in text

    view.sampled(101.0, SAMPLE)
    (reference_row,) = [line for line in shown(view).splitlines() if "p_reference" in line]
    assert "—" in reference_row and "Pa" not in reference_row


def test_low_pressures_are_shown_in_scientific_notation(bench: BenchSpec) -> None:
    view = LiveView(bench, Clock().now, console=terminal())
    view.sampled(0.0, {**SAMPLE, "p_chamber": 5e-7})
    assert "5.0000e-07 Pa" in shown(view)


def test_shows_the_live_leak_rate_in_pa_m3_s_and_sccm(bench: BenchSpec) -> None:
    view = LiveView(bench, Clock(1100.0).now, console=terminal())
    view.step_started(DECAY)
    view.sampled(1100.0, SAMPLE)
    assert "leak rate" not in shown(view)
    view.leak_rate("decay", 1.0e-5, 2.0e-7, 120)
    text = shown(view)
    assert "1.00e-05 ± 2.0e-07 Pa·m³/s" in text
    # pV at 20 °C, standard volume at 0 °C: 1e-5 Pa·m³/s is 0.00552 sccm.
    assert f"{convert_leak_rate(1.0e-5, 'sccm', pv_temperature_k=T_TWENTY_C_K):.5f}" == "0.00552"
    assert "0.00552 ± 0.00011 sccm" in text
    assert "n = 120" in text
    assert "last measurement" not in text

    view.step_started(StepProgress("vent", "vent", 5, 5, started_s=1300.0, max_s=60.0))
    assert "last measurement" in shown(view)


def test_shows_the_last_events_with_faults_highlighted(bench: BenchSpec) -> None:
    console = terminal()
    view = LiveView(bench, Clock(100.0).now, console=console)
    view.step_started(FILL)
    for i in range(10):
        view.event(40.0 + i, "step", f"step event {i}")
    view.event(95.0, "fault", "gauges: no answer")
    text = shown(view)
    assert "gauges: no answer" in text and "0:55" in text  # 55 s into the run
    assert "step event 9" in text and "step event 0" not in text  # only the last few

    out = Console(file=io.StringIO(), force_terminal=True, width=120)
    out.print(view.renderable())
    assert "\x1b[1;31mgauges: no answer" in written(out)  # bold red


@pytest.mark.parametrize(
    ("verdict", "colour"),
    [("PASS", "1;32"), ("FAIL", "1;31"), ("INCONCLUSIVE", "1;33"), ("ABORTED", "1;31")],
)
def test_the_verdict_is_shown_in_its_colour_and_the_clock_stops(
    bench: BenchSpec, verdict: str, colour: str
) -> None:
    clock = Clock(1100.0)
    view = LiveView(bench, clock.now, console=terminal())
    view.step_started(DECAY)
    view.finished(ended(verdict, "the reason"))
    clock.t = 5000.0
    text = shown(view)
    assert f"{verdict} — the reason" in text
    assert "1:40 / 5:00" in text and "ETA" not in text
    out = Console(file=io.StringIO(), force_terminal=True, width=120)
    out.print(view.renderable())
    assert f"\x1b[{colour}m{verdict}" in written(out)


def test_as_a_context_manager_on_a_terminal_the_final_state_stays_on_screen(bench: BenchSpec) -> None:
    console = terminal()
    with LiveView(bench, Clock(100.0).now, console=console, refresh_per_second=1.0) as view:
        view.step_started(FILL)
        view.sampled(100.0, SAMPLE)
        view.finished(ended("PASS", "every measurement within its limit"))
    text = written(console)
    assert "step 2/5 · fill article (fill)" in text
    assert "every measurement within its limit" in text


def test_off_a_terminal_only_one_plain_line_per_step_and_the_verdict(bench: BenchSpec) -> None:
    console = Console(file=io.StringIO(), width=60)
    assert not console.is_terminal
    with LiveView(bench, Clock(100.0).now, console=console) as view:
        view.step_started(FILL)
        view.sampled(100.0, SAMPLE)
        view.leak_rate("decay", 1.0e-5, 2.0e-7, 120)
        view.event(100.0, "fault", "gauges: no answer")
        view.step_started(DECAY)
        view.finished(ended("FAIL", "above the limit: decay"))
    lines = written(console).splitlines()
    assert lines == [
        "step 2/5 · fill article (fill) · ≤ 10:00 · ETA 30:00 + up to 10:00",
        "step 4/5 · decay (measure_decay) · 5:00 · ETA 6:00",
        "FAIL — above the limit: decay",
    ]
    assert "\x1b" not in written(console)


def test_finished_prints_the_verdict_when_no_live_display_is_running(bench: BenchSpec) -> None:
    console = terminal()
    view = LiveView(bench, Clock().now, console=console)
    view.finished(ended("INCONCLUSIVE", "not decisive, test longer: decay"))
    assert "INCONCLUSIVE" in written(console)


def test_sampling_only_stores(bench: BenchSpec) -> None:
    view = LiveView(bench, Clock().now, console=terminal())
    renders = 0

    def counting() -> str:
        nonlocal renders
        renders += 1
        return ""

    view._render = counting  # type: ignore[method-assign]
    values = dict(SAMPLE)
    for i in range(1000):
        view.sampled(i * 1e-3, values)
    assert renders == 0
    shown(view)
    assert renders == 1


def test_a_failure_while_laying_out_shows_as_a_line_instead_of_raising(bench: BenchSpec) -> None:
    class Unprintable:
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            raise ZeroDivisionError("layout")

    view = LiveView(bench, Clock().now, console=terminal())
    view._render = Unprintable  # type: ignore[method-assign]
    assert "live view cannot draw: ZeroDivisionError('layout')" in shown(view)


def test_observer_methods_never_raise_on_odd_input(bench: BenchSpec) -> None:
    def broken() -> float:
        raise RuntimeError("clock gone")

    for console in (terminal(), Console(file=io.StringIO(), width=80)):
        view = LiveView(bench, broken, console=console)
        view.step_started(StepProgress("odd", "wait", 0, 0, started_s=math.nan, nominal_s=0.0, max_s=-1.0))
        view.sampled(math.inf, {"no_such_channel": 1.0, "p_article": math.nan, "t_article": "hot"})  # type: ignore[dict-item]
        view.leak_rate("decay", math.nan, math.inf, -1)
        view.event(math.nan, "", "")
        view.finished(SimpleNamespace(verdict=SimpleNamespace(value="WHATEVER"), reason=""))  # type: ignore[arg-type]
        text = shown(view)
        assert "nan" in text and "'hot'" in text and "no_such_channel" not in text
    # A closed output (a pipe gone away) costs the lines, not the run.
    gone = io.StringIO()
    gone.close()
    view = LiveView(bench, Clock().now, console=Console(file=gone))
    view.step_started(FILL)
    view.finished(ended("PASS", ""))


def test_a_part_that_cannot_be_drawn_leaves_the_rest_of_the_view(bench: BenchSpec) -> None:
    view = LiveView(bench, Clock(100.0).now, console=terminal())
    view.step_started(FILL)
    view.sampled(100.0, SAMPLE)
    view.leak_rate("decay", "fast", 1.0, 3)  # type: ignore[arg-type]
    text = shown(view)
    assert "cannot draw" in text and "200.00 kPa" in text and "step 2/5" in text


def test_refresh_rate_must_be_positive(bench: BenchSpec) -> None:
    with pytest.raises(ValueError, match="refresh_per_second"):
        LiveView(bench, Clock().now, refresh_per_second=0.0)
