"""The picture of a trend: each run's value with its 95 % interval, the limit, and the control limits.

Runs stand in order, oldest first, one per position on the x axis (labelled with their start
time); the value is drawn in the first measurement colour of the run plots
(:func:`rig.report.fit_view.measurement_colour`) with its interval as an error bar, the limit as
a red line (red is kept for limits and faults, as on the certificate), the center line and the
control limits dashed grey, and each run outside the control limits ringed in red.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rig.errors import InputError
from rig.report.certificate_plot import LIMIT_COLOUR
from rig.report.figure_file import write_figure
from rig.report.fit_view import measurement_colour, plain_number
from rig.report.trend_view import Trend

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CONTROL_COLOUR = "0.35"
MAX_TICK_LABELS = 30  # beyond this many runs the x axis shows positions, not start times


def plot_trend(trend: Trend, path: str | Path) -> Path:
    """Draw ``trend`` (:func:`trend_figure`) to the PNG ``path`` and return the path.

    A directory that is not there, an image type matplotlib cannot write, or a file that
    cannot be written raises :class:`rig.errors.InputError` (one line).
    """
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise InputError(f"cannot write {out}: the trend is drawn as a PNG (name the file .png)")
    return write_figure(out, lambda: trend_figure(trend))


def trend_figure(trend: Trend) -> Figure:
    """The figure of ``trend`` (see the module's docstring); a trend of no runs is an empty chart."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    unit = trend.shown_unit
    x = list(range(1, len(trend.runs) + 1))
    values = [r.value for r in trend.runs]
    below = [r.value - r.ci95_low if r.ci95_low is not None else 0.0 for r in trend.runs]
    above = [r.ci95_high - r.value if r.ci95_high is not None else 0.0 for r in trend.runs]
    colour = measurement_colour(0)
    ax.errorbar(
        x, values, yerr=[below, above], fmt="o", ms=5, color=colour, ecolor=colour, elinewidth=1.2,
        capsize=3, label=f"{trend.measurement} with its 95 % interval (k = 2)",
    )  # fmt: skip
    if trend.limit is not None:
        ax.axhline(trend.limit, color=LIMIT_COLOUR, lw=1.6, label=f"limit {plain_number(trend.limit)} {unit}")
    limits = trend.limits
    if limits is not None:
        ax.axhline(
            limits.center,
            color=CONTROL_COLOUR,
            ls="--",
            lw=1.0,
            label=f"center {plain_number(limits.center)} {unit}",
        )
        for edge, name in ((limits.upper, "upper"), (limits.lower, "lower")):
            ax.axhline(
                edge,
                color=CONTROL_COLOUR,
                ls=(0, (2, 2)),
                lw=1.0,
                label=f"{name} control limit {plain_number(edge)}",
            )
    flagged = [(i, r.value) for i, r in zip(x, trend.runs, strict=True) if r.out_of_control]
    if flagged:
        ax.plot(
            [i for i, _ in flagged], [v for _, v in flagged], "o", ms=14, mfc="none", mec=LIMIT_COLOUR,
            mew=1.8, label=f"out of control ({len(flagged)})",
        )  # fmt: skip
    if 0 < len(x) <= MAX_TICK_LABELS:
        ax.set_xticks(x, [r.started.replace("T", "\n") for r in trend.runs], fontsize=7)
        ax.set_xlabel("run start (oldest first)")
    else:
        ax.set_xlabel("run (oldest first)")
    ax.set_ylabel(f"{trend.measurement} [{unit}]")
    title = f"{trend.procedure} · {trend.measurement} · {len(trend.runs)} run(s)"
    if limits is None:
        title += " · no control limits (fewer than two runs)"
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return fig
