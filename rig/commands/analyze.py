"""``rig analyze FILE``: the leak rate of a recorded decay, with its uncertainty and verdict.

The gauge's resolution (``--resolution``, else read off the recording by
:mod:`rig.analysis.resolution`) enters the uncertainty as the engine's Type-B term, so a
trace too flat to show scatter is bounded by what its gauge could resolve, and the
verdict follows the engine's rules (bounds, then ASTM E2930). ``--from T0 --to T1`` fits only
the samples of that window (in the file's time unit, both ends included); ``rig runs analyze``
fits a recorded measurement's window through :func:`report_series`, so both print alike.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from rig.analysis import Decision, fit_decay
from rig.analysis.budget import Budget
from rig.analysis.decay import DecayFit
from rig.analysis.resolution import Resolution, infer_resolution, judge, with_resolution
from rig.errors import InputError
from rig.record.csv_series import Series, read_series
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, convert_leak_rate, parse_leak_rate, positive_si


def register(sub: Any) -> None:
    """Add the ``analyze`` subparser."""
    p = sub.add_parser(
        "analyze",
        help="leak rate of a recorded CSV (time, pressure[, temperature])",
        description="Fit a recorded pressure decay and report the leak rate with its uncertainty.",
    )
    p.add_argument("file", help="CSV with a header naming time, pressure and optionally temperature columns")
    p.add_argument("--volume", required=True, help='volume under test with units, e.g. "1 L" or "0.05 m**3"')
    p.add_argument("--t-ref", default=f"{T_TWENTY_C_K} K", help="reference temperature (default 293.15 K)")
    p.add_argument("--limit", help='leak-rate limit for a verdict, e.g. "0.5 sccm" or "1e-4 mbar*L/s"')
    p.add_argument(
        "--sccm-ref",
        default=f"{T_ZERO_C_K} K",
        help="reference temperature of standard volumes (sccm); 0 degC by default, '20 degC' for the other",
    )
    p.add_argument(
        "--resolution",
        help='the gauge\'s resolution (one step of its reading), e.g. "1 Pa"; '
        "read off the recording's printed digits and value steps when not given",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the data, the fit and the residuals")
    p.add_argument("--time-column", default="time", help="name of the time column (default: time)")
    p.add_argument("--pressure-column", default="pressure", help="name of the pressure column")
    p.add_argument("--temperature-column", default="temperature", help="name of the gas-temperature column")
    p.add_argument(
        "--from",
        dest="time_from",
        metavar="T0",
        type=_time,
        help="fit only samples at or after T0 (in the file's time unit)",
    )
    p.add_argument(
        "--to",
        dest="time_to",
        metavar="T1",
        type=_time,
        help="fit only samples at or before T1 (in the file's time unit)",
    )
    p.set_defaults(handler=run)


def _time(text: str) -> float:
    """A window end: a plain finite number (its unit is the file's time column's)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number (a time in the file's time unit, e.g. 120)"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite time")
    return value


def run(args: argparse.Namespace) -> int:
    """Execute ``rig analyze``; invalid input raises :class:`rig.errors.InputError`."""
    volume_m3 = positive_si(args.volume, "volume", "--volume")
    t_ref_k = positive_si(args.t_ref, "temperature", "--t-ref")
    sccm_ref_k = positive_si(args.sccm_ref, "temperature", "--sccm-ref")
    limit = None
    if args.limit is not None:
        limit = parse_leak_rate(args.limit, "--limit", pv_temperature_k=t_ref_k, sccm_reference_k=sccm_ref_k)
        if not limit > 0.0:
            raise InputError(f"--limit: must be positive, got {args.limit!r}")
    # rig.units refuses a non-finite quantity itself; positive_si refuses zero and below.
    given_pa = (
        positive_si(args.resolution, "pressure", "--resolution") if args.resolution is not None else None
    )
    time_from, time_to = getattr(args, "time_from", None), getattr(args, "time_to", None)
    if time_from is not None and time_to is not None and time_from > time_to:
        raise InputError(f"the window is inverted: --from {time_from:g} is after --to {time_to:g}")
    series = read_series(
        args.file,
        time_column=args.time_column,
        pressure_column=args.pressure_column,
        temperature_column=args.temperature_column,
        time_from=time_from,
        time_to=time_to,
    )
    return report_series(
        series,
        volume_m3=volume_m3,
        t_ref_k=t_ref_k,
        sccm_ref_k=sccm_ref_k,
        limit_pa_m3_s=limit,
        resolution_pa=given_pa,
        plot=args.plot,
        as_json=args.json,
        written_limit=args.limit,
    )


def report_series(
    series: Series,
    *,
    volume_m3: float,
    t_ref_k: float,
    sccm_ref_k: float,
    limit_pa_m3_s: float | None,
    resolution_pa: float | None,
    plot: str | None,
    as_json: bool,
    written_limit: str | None = None,
) -> int:
    """Fit ``series``, judge it against ``limit_pa_m3_s`` (None: no verdict), print it; return 0.

    What ``rig analyze`` prints (a table, or one JSON object with ``as_json``); ``rig runs
    analyze`` prints a recorded window through it too. ``resolution_pa`` None: read off the
    recording (``series.pressure_steps``); ``written_limit`` the limit as the user wrote it (shown
    beside Pa·m³/s).
    """
    fit = fit_decay(series.time_s, series.pressure_pa, series.temperature_k, volume_m3, t_ref_k)
    if not (math.isfinite(fit.leak_rate_pa_m3_s) and math.isfinite(fit.stderr_pa_m3_s)):
        # Finite inputs can still overflow the fit (e.g. pressures near 1e308): a number, or an error.
        raise InputError(f"{series.source}: the values are too large to fit (the leak rate overflows)")
    resolution = infer_resolution(series.pressure_steps, resolution_pa)
    fit, budget = with_resolution(fit, resolution, series.pressure_pa, series.temperature_k)
    decision = judge(fit, budget, limit_pa_m3_s) if limit_pa_m3_s is not None else None
    result = summarise(fit, decision, sccm_ref_k, series.source, resolution, budget)
    if plot:
        from rig.report.decay_plot import plot_decay

        plot_decay(series, fit, decision, plot)
        result["plot"] = plot
    if as_json:
        print(json.dumps(result, allow_nan=False, default=_json_safe))
    else:
        from rig.commands.analyze_table import print_table

        print_table(result, written_limit=written_limit)
    return 0


def _json_safe(value: object) -> object:
    raise TypeError(f"not JSON serialisable: {value!r}")


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def summarise(
    fit: DecayFit,
    decision: Decision | None,
    sccm_ref_k: float,
    source: str,
    resolution: Resolution | None = None,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """The result as the JSON object of the interface (SI units, named fields)."""
    low, high = fit.interval(0.95)
    q = fit.leak_rate_pa_m3_s
    out: dict[str, Any] = {
        "file": source,
        "method": fit.method,
        "leak_rate_pa_m3_s": q,
        "stderr_pa_m3_s": fit.stderr_pa_m3_s,
        "ci95_low_pa_m3_s": low,
        "ci95_high_pa_m3_s": high,
        "ucl95_pa_m3_s": fit.upper_bound(0.95),
        "lcl95_pa_m3_s": fit.lower_bound(0.95),
        "n": fit.n,
        "n_skipped": fit.n_skipped,
        "dof": fit.dof,
        "n_eff": fit.line.n_eff,
        "rho1": fit.line.rho1,
        "slope_pa_s": fit.slope_pa_s,
        "slope_stderr_pa_s": fit.slope_stderr_pa_s,
        "ols_slope_stderr_pa_s": fit.line.ols_slope_stderr,
        "residual_std_pa": fit.line.residual_std,
        "duration_s": fit.line.duration,
        "volume_m3": fit.volume_m3,
        "t_ref_k": fit.t_ref_k,
        "sccm_reference_k": sccm_ref_k,
        "molar_rate_mol_s": fit.molar_rate_mol_s,
        "leak_rate_sccm": convert_leak_rate(
            q, "sccm", pv_temperature_k=fit.t_ref_k, sccm_reference_k=sccm_ref_k
        ),
        "leak_rate_mbar_l_s": convert_leak_rate(q, "mbar*L/s", pv_temperature_k=fit.t_ref_k),
        "leak_rate_lb_day": convert_leak_rate(q, "lb/day", pv_temperature_k=fit.t_ref_k),
    }
    if resolution is not None:
        out["resolution_pa"] = resolution.step_pa if resolution.source != "none" else None
        out["resolution_source"] = resolution.source
        out["stderr_type_b_pa_m3_s"] = fit.type_b_pa_m3_s
    if budget is not None:
        out["test_resolution_pa_m3_s"] = budget.test_resolution_pa_m3_s
    if decision is not None:
        out["verdict"] = decision.verdict.value
        out["limit_pa_m3_s"] = decision.limit_pa_m3_s
        out["margin_pa_m3_s"] = decision.limit_pa_m3_s - decision.upper_bound_pa_m3_s
        out["additional_time_s"] = _finite_or_none(decision.additional_time_s)
        out["refusal"] = decision.refusal
        if budget is not None:
            e2930 = budget.e2930(decision.limit_pa_m3_s)
            out["e2930"] = {k: (_finite_or_none(v) if isinstance(v, float) else v) for k, v in e2930.items()}
    return {k: (_finite_or_none(v) if isinstance(v, float) else v) for k, v in out.items()}
