"""``rig plan PROCEDURE.yaml``: how long a measurement must run to decide its limit.

The duration proposed is one ``rig validate`` accepts for the procedure with it (and the limit)
substituted: the planner holds the limit to the validator's own rule
(:class:`rig.analysis.detectability.Resolving`) and stays within the procedure's bounds.

Exit codes: 0 a duration was found, 1 no test up to the bound (30 days, or less where the
procedure's bounds say so) can decide (the reason is printed), 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from rig.analysis.planner import POWER, Plan, decides_at, plan_duration
from rig.commands.bench_access import EXIT_INVALID, load_or_report
from rig.errors import InputError
from rig.outcome import Outcome
from rig.planning import (
    MonteCarlo,
    SimulatedRun,
    choose_measurement,
    longest_allowed,
    monte_carlo_check,
    setup_for,
    simulation_check,
)
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, convert_leak_rate, parse_leak_rate

EXIT_UNDECIDABLE = 1
DEFAULT_DRAWS = 200


def register(sub: Any) -> None:
    """Add the ``plan`` subcommand."""
    p = sub.add_parser(
        "plan",
        help="the test duration a measurement needs to decide its limit",
        description=(
            "Plan the duration of a procedure's measure_decay: the shortest test that decides an "
            "expected leak (half the limit unless --expected) against the limit with the given power, "
            "from the bench's noise, resolution, temperature stability and volume; optionally checked by "
            "Monte Carlo through the compiled fit and verdict, and by runs on the simulated bench."
        ),
    )
    p.add_argument("procedure", help="procedure file (YAML)")
    p.add_argument("--bench", help="bench file instead of the one the procedure names")
    p.add_argument(
        "--limit",
        help='leak-rate limit, e.g. "0.1 sccm" (sccm at 0 degC; default: the measurement\'s own limit)',
    )
    p.add_argument("--expected", help="the leak rate to plan for (default: half the limit)")
    p.add_argument("--measurement", help="the measure_decay to plan (default: the first with a limit)")
    p.add_argument("--power", type=float, default=POWER, help=f"probability of deciding (default {POWER})")
    p.add_argument(
        "--monte-carlo",
        type=int,
        nargs="?",
        const=DEFAULT_DRAWS,
        metavar="N",
        help=f"check the plan with N synthetic tests (default N: {DEFAULT_DRAWS})",
    )
    p.add_argument(
        "--simulate", type=int, metavar="K", help="check the plan with K runs on the simulated bench"
    )
    p.add_argument(
        "--seed", type=int, help="seed of the checks (default: 0; the bench file's for --simulate)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _rate(text: str, what: str) -> float:
    rate = parse_leak_rate(text, what, pv_temperature_k=T_TWENTY_C_K)
    if not math.isfinite(rate):
        raise InputError(f"{what}: not a finite leak rate: {text!r}")
    return rate


def run(args: argparse.Namespace) -> int:
    """Execute ``rig plan``: exit 0 with a plan, 1 when nothing can decide, 2 on invalid input."""
    limit = _rate(args.limit, "--limit") if args.limit is not None else None
    if limit is not None and not limit > 0.0:
        raise InputError(f"--limit: must be positive, got {args.limit!r}")
    expected = _rate(args.expected, "--expected") if args.expected is not None else None
    if args.monte_carlo is not None and args.monte_carlo < 1:
        raise InputError(f"--monte-carlo: at least one draw, got {args.monte_carlo}")
    if args.simulate is not None and args.simulate < 1:
        raise InputError(f"--simulate: at least one run, got {args.simulate}")
    procedure = load_or_report(args.procedure, args.bench)
    if procedure is None:
        return EXIT_INVALID
    step = choose_measurement(procedure, args.measurement)
    setup = setup_for(procedure, step)
    if limit is None:
        limit = setup.limit_pa_m3_s
        if limit is None:
            raise InputError(f"measurement {setup.name!r} has no limit: give one with --limit")
    longest, bounded_by = longest_allowed(procedure, setup.name, limit)
    plan = plan_duration(setup, limit, expected, args.power, max_duration_s=longest, bounded_by=bounded_by)
    # The procedure's own duration, judged the same way: is the plan news?
    as_written = decides_at(setup, setup.duration_s, limit, plan.expected_pa_m3_s, args.power)
    mc = sim = None
    if plan.duration_s is not None:
        if args.monte_carlo is not None:
            mc = monte_carlo_check(
                procedure.bench,
                setup,
                plan.duration_s,
                limit,
                plan.expected_pa_m3_s,
                args.monte_carlo,
                args.seed or 0,
            )
        if args.simulate is not None:
            # Judged against the limit planned for (--limit), not the step's own.
            sim = simulation_check(procedure, setup.name, plan.duration_s, limit, args.simulate, args.seed)
    result = summarise(plan, procedure.name, procedure.bench.name, expected is None, as_written, mc, sim)
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print_summary(result)
    return 0 if plan.duration_s is not None else EXIT_UNDECIDABLE


def _sccm(q: float) -> float:
    return convert_leak_rate(q, "sccm", pv_temperature_k=T_TWENTY_C_K, sccm_reference_k=T_ZERO_C_K)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def hms(seconds: float) -> str:
    """``seconds`` as h:mm:ss (hours may exceed 24)."""
    whole = math.ceil(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def summarise(
    plan: Plan,
    procedure: str,
    bench: str,
    expected_is_default: bool,
    procedure_duration_decisive: bool,
    mc: MonteCarlo | None,
    sim: list[SimulatedRun] | None,
) -> dict[str, Any]:
    """The plan as the JSON object ``rig plan --json`` prints."""
    setup, model = plan.setup, plan.model
    method = "analytic"
    if mc is not None:
        method += "+monte-carlo"
    if sim is not None:
        method += "+simulation"
    result: dict[str, Any] = {
        "duration_s": plan.duration_s,
        "duration": hms(plan.duration_s) if plan.duration_s is not None else None,
        "method": method,
        "reason": plan.reason,
        "procedure": procedure,
        "bench": bench,
        "measurement": setup.name,
        "channel": setup.channel,
        "volume": setup.volume,
        "direction": "rise" if setup.sign < 0 else "decay",
        "compensated": setup.compensated,
        "limit_pa_m3_s": plan.limit_pa_m3_s,
        "limit_sccm": _sccm(plan.limit_pa_m3_s),
        "expected_pa_m3_s": plan.expected_pa_m3_s,
        "expected_sccm": _sccm(plan.expected_pa_m3_s),
        "expected_basis": "half the limit" if expected_is_default else "--expected",
        "expected_outcome": plan.expected_outcome,
        "sccm_reference_k": T_ZERO_C_K,
        "pv_temperature_k": T_TWENTY_C_K,
        "power": plan.power,
        "confidence": plan.confidence,
        "planned_power": plan.achieved_power() if plan.duration_s is not None else None,
        "procedure_duration_s": setup.duration_s,
        "procedure_duration_decisive": procedure_duration_decisive,
        "sample_period_s": setup.sample_period_s,
        "level_pa": setup.level_pa,
        "pressure_pa": model.pressure_pa,
        "resolution_pa": model.type_b.resolution_pa,
        "noise_pa": model.noise_pa,
        "temperature_noise_k": model.temperature_noise_k if setup.compensated else None,
        "rho": model.rho,
        "dof": model.dof,
        "t_quantile": model.t_quantile,
        "evaluated_at_s": model.test.duration_s,
        "stderr_pa_m3_s": _finite(model.test.stderr_pa_m3_s),
        "budget": {name: _finite(u) for name, u in model.test.terms.items()},
        "e2930": plan.e2930(),
        "monte_carlo": None,
        "simulation": None,
    }
    if mc is not None:
        rates = mc.rates_pa_m3_s
        result["monte_carlo"] = {
            "draws": mc.draws,
            "seed": mc.seed,
            "outcomes": mc.outcomes,
            "expected_outcome": mc.expected_outcome,
            "decisive": mc.decisive,
            "fraction": mc.fraction,
            "fraction_stderr": mc.standard_error,
            "rate_mean_pa_m3_s": float(rates.mean()),
            "rate_std_pa_m3_s": float(rates.std(ddof=1)) if rates.size > 1 else None,
            "fit_stderr_mean_pa_m3_s": float(mc.fit_stderrs_pa_m3_s.mean()),
        }
    if sim is not None:
        result["simulation"] = {
            "runs": len(sim),
            "limit_pa_m3_s": plan.limit_pa_m3_s,
            "decisive": sum(r.decisive for r in sim),
            "outcomes": [r.outcome for r in sim],
            "verdicts": [r.verdict for r in sim],
            "seeds": [r.seed for r in sim],
            "rates_pa_m3_s": [r.rate_pa_m3_s for r in sim],
            "stderrs_pa_m3_s": [r.stderr_pa_m3_s for r in sim],
            "reasons": [r.reason for r in sim],
        }
    return result


def print_summary(r: dict[str, Any]) -> None:
    """A few lines for a person."""
    kind = r["direction"] + (", temperature-compensated" if r["compensated"] else "")
    print(f"{r['procedure']}: measurement {r['measurement']!r} ({r['channel']} on {r['volume']}, {kind})")
    print(
        f"  limit {r['limit_sccm']:.4g} sccm ({r['limit_pa_m3_s']:.3g} Pa·m³/s); planned for "
        f"{r['expected_sccm']:.4g} sccm ({r['expected_pa_m3_s']:.3g} Pa·m³/s, {r['expected_basis']}) "
        f"→ {r['expected_outcome'] or 'no verdict'} with power {r['power']:g}"
    )
    if r["duration_s"] is None:
        print(f"  no test up to {hms(r['evaluated_at_s'])} can decide: {r['reason']}")
    else:
        written = "enough" if r["procedure_duration_decisive"] else "too short"
        print(
            f"  duration {r['duration']} ({r['duration_s']:g} s); the procedure's "
            f"{r['procedure_duration_s']:g} s is {written}; planned power {r['planned_power']:.3f}"
        )
    terms = ", ".join(f"{k} {v:.3g}" if v is not None else f"{k} inf" for k, v in r["budget"].items())
    combined = r["stderr_pa_m3_s"]
    print(
        f"  budget at {r['evaluated_at_s']:g} s (k = 1, Pa·m³/s): {terms}; combined "
        + (f"{combined:.3g}" if combined is not None else "inf")
    )
    e = r["e2930"]
    applies = " (a pass's rule; this plan is for a fail)" if r["expected_outcome"] == Outcome.FAIL else ""
    print(
        f"  E2930: resolves {e['test_resolution']:.3g} Pa·m³/s, required ≤ {e['required']:.3g}: "
        + ("met" if e["met"] else "not met")
        + applies
    )
    mc = r["monte_carlo"]
    if mc is not None:
        print(
            f"  Monte Carlo: {mc['decisive']}/{mc['draws']} {mc['expected_outcome']} "
            f"({100.0 * mc['fraction']:.1f} % ± {100.0 * mc['fraction_stderr']:.1f}); "
            f"outcomes {mc['outcomes']}"
        )
    sim = r["simulation"]
    if sim is not None:
        rates = ", ".join(f"{q:.3g}" if q is not None else "—" for q in sim["rates_pa_m3_s"])
        outcomes = ", ".join(map(str, sim["outcomes"]))
        print(
            f"  simulation: {sim['decisive']}/{sim['runs']} decisive ({outcomes}); measured {rates} Pa·m³/s"
        )
