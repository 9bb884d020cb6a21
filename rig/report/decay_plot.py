"""A picture of a decay fit: the data, the fitted line with its confidence band, the residuals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rig.analysis.decay import DecayFit
from rig.analysis.verdict import Decision
from rig.record.csv_series import Series
from rig.report.fit_view import LEAK_UNIT_TEXT, plain_number, value_pm

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_decay(series: Series, fit: DecayFit, decision: Decision | None, path: str | Path) -> Path:
    """Draw ``series`` with ``fit`` (:func:`decay_figure`) to the PNG ``path`` and return the path."""
    out = Path(path)
    decay_figure(series, fit, decision).savefig(out, dpi=120)
    return out


def decay_figure(series: Series, fit: DecayFit, decision: Decision | None) -> Figure:
    """The data, the fitted line with its confidence band, and the residuals.

    The samples are drawn as the quantity the fit is of (``p·T_ref/T`` when the series has
    temperatures), so the line runs through them.
    """
    from matplotlib.figure import Figure

    t = series.time_s
    y = series.pressure_pa
    ylabel = "pressure [Pa]"
    if series.temperature_k is not None:
        y = series.pressure_pa * fit.t_ref_k / series.temperature_k
        ylabel = f"p·{fit.t_ref_k:g} K/T [Pa]"
    rel = t - fit.line.t0
    line = fit.line.predict(t)
    band = fit.line.t_quantile(0.975) * fit.line.slope_stderr * np.abs(rel - np.nanmean(rel))
    fig = Figure(figsize=(8, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot(rel, y, ".", ms=2, color="0.4", label="samples")
    quantity = "p" if series.temperature_k is None else f"p·{fit.t_ref_k:g} K/T"
    q_text = value_pm(fit.leak_rate_pa_m3_s, 2.0 * fit.stderr_pa_m3_s)
    top.plot(rel, line, "-", color="C0", label=f"fit of {quantity}: Q = {q_text} (k=2) {LEAK_UNIT_TEXT}")
    top.fill_between(rel, line - band, line + band, color="C0", alpha=0.2, label="95 % band on the slope")
    title = f"{Path(series.source).name}\n{fit.method}"
    if decision is not None:
        title += f": {decision.verdict.value} (limit {plain_number(decision.limit_pa_m3_s)} {LEAK_UNIT_TEXT})"
    top.set_title(title, fontsize=10)
    top.set_ylabel(ylabel)
    top.legend(loc="best")
    bottom.plot(rel, y - line, ".", ms=2, color="C1")
    bottom.axhline(0.0, color="0.2", lw=0.8)
    bottom.set_ylabel("residual [Pa]")
    bottom.set_xlabel(f"time since first sample [s] (ρ₁ = {fit.line.rho1:.2f})")
    fig.tight_layout()
    return fig
