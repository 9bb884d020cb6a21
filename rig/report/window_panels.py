"""One panel per fit window of a run plot: the window's samples and its line, zoomed so a decay shows.

At a full run's scale a decay of a few hundred pascals at an atmosphere is a flat line; each
panel shows only its window (and a little either side), relative to the line's start, on the
quantity the line fitted (:mod:`rig.report.fit_view`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rig.record.measurement import FitLine
from rig.record.run_samples import FloatArray, RunSamples
from rig.report.fit_view import (
    fitted_quantity_name,
    fitted_samples,
    line_pa,
    mark_no_reading,
    no_reading_times,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import SubFigure

MARGIN_FRACTION = 0.04  # of the window, shown either side of it
PANEL_COLUMNS = 3
PANEL_HEIGHT_IN = 2.7
WINDOW_AXES_PREFIX = "fit window: "  # each panel's axes label, so a reader (or a test) can find it


@dataclass(frozen=True)
class WindowPanel:
    """What one fit window's panel shows (pressures in Pa, times in clock seconds)."""

    name: str
    channel: str
    label: str
    colour: str
    sample_colour: str
    fit: FitLine
    window_s: tuple[float, float]
    thermometer: str | None


def reference_level(fit: FitLine, start_s: float) -> float:
    """The level a panel's pressures are drawn relative to: the line at the window's start, to 5 figures."""
    level = float(line_pa(fit, np.array([start_s]))[0])
    return float(f"{level:.5g}")


def _level_text(level: float) -> str:
    return f"{level / 1e3:.6g} kPa" if abs(level) >= 1e3 else f"{level:.6g} Pa"


def panel_rows(count: int) -> int:
    """Rows of panels ``count`` fit windows need."""
    return math.ceil(count / PANEL_COLUMNS) if count else 0


def draw_window_panels(
    figure: SubFigure,
    panels: Sequence[WindowPanel],
    samples: RunSamples,
    minutes: Callable[[FloatArray], FloatArray],
) -> list[Axes]:
    """Draw one axes per panel into ``figure`` (a grid :data:`PANEL_COLUMNS` wide) and return them."""
    columns = min(PANEL_COLUMNS, len(panels))
    grid = figure.subplots(panel_rows(len(panels)), columns, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes, panels, strict=False):
        _draw_panel(ax, panel, samples, minutes)
    return axes[: len(panels)]


def _draw_panel(
    ax: Axes, panel: WindowPanel, samples: RunSamples, minutes: Callable[[FloatArray], FloatArray]
) -> None:
    start, end = panel.window_s
    margin = MARGIN_FRACTION * (end - start)
    t = samples.time_s
    shown = (t >= start - margin) & (t <= end + margin)
    quantity = fitted_quantity_name(panel.fit)
    values = fitted_samples(samples, panel.channel, panel.fit, panel.thermometer)
    if values is None:
        # A compensated fit whose thermometer the record does not name: raw p would sit off the
        # line by the temperature offset, so the samples are left out rather than drawn misleadingly.
        sample_label = f"samples not shown: the fit is of {quantity}, thermometer not recorded"
        y_samples = np.empty(0)
        t_samples = np.empty(0)
    else:
        how = f" as {quantity} ({panel.thermometer})" if quantity != "p" else ""
        sample_label = f"{panel.channel}{how}"
        y_samples, t_samples = values[shown], t[shown]
    level = reference_level(panel.fit, start)
    ax.plot(minutes(t_samples), y_samples - level, ".", ms=1.5, color=panel.sample_colour, label=sample_label)
    t_line = np.linspace(start, end, 2)
    y_line = line_pa(panel.fit, t_line) - level
    ax.plot(minutes(t_line), y_line, "-", lw=2.0, color=panel.colour, label=f"fit of {quantity}")
    missing = no_reading_times(samples, panel.channel, (start - margin, end + margin))
    label = f"no reading ({missing.size}: dropout or over range)"
    mark_no_reading(ax, minutes(missing), colour="red", label=label)
    inside = (t_samples >= start) & (t_samples <= end) & np.isfinite(y_samples)
    span = np.concatenate((y_samples[inside] - level, y_line))
    lo, hi = float(span.min()), float(span.max())
    pad = 0.08 * (hi - lo) or 1.0
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(float(minutes(np.array([start - margin]))[0]), float(minutes(np.array([end + margin]))[0]))
    ax.axvspan(
        float(minutes(np.array([start]))[0]),
        float(minutes(np.array([end]))[0]),
        color="0.5",
        alpha=0.07,
        lw=0,
    )
    # Name and outcome, then the value: one line of both is wider than a panel.
    ax.set_title(panel.label.replace(": ", "\n", 1), fontsize=8, color=panel.colour)
    ax.set_ylabel(f"{quantity} − {_level_text(level)} [Pa]", fontsize=7)
    ax.set_xlabel("time since the first sample [min]", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.set_label(WINDOW_AXES_PREFIX + panel.name)
    ax.grid(alpha=0.3)
    # The corner the line leaves empty: a decay falls to the right, a rise climbs.
    ax.legend(loc="upper right" if panel.fit.slope_pa_s <= 0.0 else "lower right", fontsize=6)
