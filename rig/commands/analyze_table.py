"""The human-readable form of ``rig analyze``: a table in the terminal (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from rig.commands.consoles import output_console
from rig.outcome import Outcome
from rig.units import convert_leak_rate

_VERDICT_STYLE: dict[str, str] = {
    Outcome.PASS: "bold green",
    Outcome.FAIL: "bold red",
    Outcome.INCONCLUSIVE: "bold yellow",
}
_UNITS = (("Pa*m**3/s", "Pa·m³/s"), ("mbar*L/s", "mbar·L/s"), ("sccm", "sccm"), ("lb/day", "lb/day of air"))


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def print_table(
    result: dict[str, Any], console: Console | None = None, written_limit: str | None = None
) -> None:
    """Print the analysis ``result`` (the JSON object of ``rig analyze``) as tables.

    ``written_limit`` is ``--limit`` as the user wrote it ("0.5 sccm"): shown as written, Pa·m³/s beside.
    """
    con = console or output_console()
    t_ref, sccm_ref = result["t_ref_k"], result["sccm_reference_k"]
    rates = Table(title=f"Leak rate — {result['file']}", title_justify="left")
    rates.add_column("unit")
    for label in ("estimate", "std. error", "95 % CI low", "95 % CI high", "95 % upper bound"):
        rates.add_column(label, justify="right")
    keys = ("leak_rate_pa_m3_s", "stderr_pa_m3_s", "ci95_low_pa_m3_s", "ci95_high_pa_m3_s", "ucl95_pa_m3_s")
    for unit, label in _UNITS:
        cells = []
        for key in keys:
            v = result[key]
            cells.append(
                _fmt(
                    None
                    if v is None
                    else convert_leak_rate(v, unit, pv_temperature_k=t_ref, sccm_reference_k=sccm_ref)
                )
            )
        suffix = f" ({sccm_ref - 273.15:g} °C ref.)" if unit == "sccm" else ""
        rates.add_row(label + suffix, *cells)
    con.print(rates)
    facts = Table(show_header=False, box=None)
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("method", f"{result['method']} (pV at {t_ref:g} K)")
    facts.add_row("samples", f"{result['n']} used, {result['n_skipped']} skipped (dropouts)")
    facts.add_row("duration", f"{_fmt(result['duration_s'])} s")
    facts.add_row("slope", f"{_fmt(result['slope_pa_s'])} ± {_fmt(result['slope_stderr_pa_s'])} Pa/s")
    facts.add_row(
        "noise",
        f"residual σ {_fmt(result['residual_std_pa'])} Pa, lag-1 ρ {_fmt(result['rho1'])}, "
        f"effective n {_fmt(result['n_eff'])}, dof {_fmt(result['dof'])}",
    )
    if "resolution_source" in result:
        facts.add_row("resolution", _resolution(result))
    if "verdict" in result:
        style = _VERDICT_STYLE.get(result["verdict"], "bold")
        si = f"{_fmt(result['limit_pa_m3_s'])} Pa·m³/s"
        facts.add_row("limit", f"{' '.join(written_limit.split())} = {si}" if written_limit else si)
        line = f"[{style}]{result['verdict']}[/]"
        refusal = result.get("refusal")
        if refusal:
            line += f" — {refusal}"
        if result["verdict"] == Outcome.INCONCLUSIVE:
            line += _further(result.get("additional_time_s"), bool(refusal))
        facts.add_row("verdict", line)
    if "plot" in result:
        facts.add_row("plot", result["plot"])
    con.print(facts)


def _resolution(result: dict[str, Any]) -> str:
    """The resolution row: the step, where it came from, and its share of the uncertainty."""
    source = result["resolution_source"]
    if source == "none":
        return "unknown (no printed digits or value steps to read it from; give --resolution)"
    return (
        f"{_fmt(result['resolution_pa'])} Pa ({source}), "
        f"± {_fmt(result['stderr_type_b_pa_m3_s'])} Pa·m³/s in the uncertainty"
    )


def _further(extra_s: float | None, refused: bool) -> str:
    """How much longer an INCONCLUSIVE test should run, as the verdict line's tail."""
    if extra_s is not None:
        shown = f"{extra_s:.0f}" if extra_s < 1e7 else f"{extra_s:.3g}"
        return f" — test about {shown} s longer to decide"
    if refused:
        return ""
    # The estimate on the limit, or terms that a longer test does not shrink.
    return " — no longer test is expected to decide it"
