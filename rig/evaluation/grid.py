"""The evaluation's grid (true leaks as factors of the limit × seeds) and its report per factor.

Definitions (README, "Evaluating a method"):

* a run **detects** the leak when its verdict is FAIL; PASS, INCONCLUSIVE and ABORTED do not;
* ``p_detect`` = FAIL / N at every factor, N the runs made at it (aborted ones included: a
  method whose runs abort does not detect). Over the factors it is the detection curve; EPA's
  protocol for leak detection methods asks ≥ 95 % at the rated leak, factor 1;
* ``p_false_alarm`` = FAIL / N at factors below 1 (a part leaking less than the limit is a
  good part, and failing it is a false alarm); null at factors of 1 and above, where a FAIL is
  a detection, not an alarm;
* each with its exact 95 % Clopper–Pearson interval (:mod:`rig.analysis.clopper_pearson`).

Every factor runs the same seeds (``seed``, ``seed`` + 1, …): the factors then differ by the
leak alone, and the curve is smoother than with fresh noise at each point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rig.analysis.clopper_pearson import clopper_pearson
from rig.errors import InputError
from rig.evaluation.tasks import VERDICTS, RunResult

# How many distinct reasons of INCONCLUSIVE and ABORTED runs a factor's report lists.
REASONS_KEPT = 5


def parse_factors(text: str) -> list[float]:
    """``"0.5,1,2"`` → [0.5, 1.0, 2.0]: positive, finite, distinct (InputError otherwise)."""
    factors: list[float] = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"--factors: {part.strip()!r} is not a number (give e.g. 0.5,1,2)") from None
        if not math.isfinite(value) or value <= 0.0:
            raise InputError(f"--factors: {part.strip()!r} is not a positive factor of the limit")
        if value in factors:
            raise InputError(f"--factors: {part.strip()} is given twice")
        factors.append(value)
    return factors


@dataclass(frozen=True)
class FactorReport:
    """What the runs at one factor of the limit came to."""

    factor: float
    true_leak_pa_m3_s: float
    cd_area_m2: float
    results: tuple[RunResult, ...]

    def counts(self) -> dict[str, int]:
        """Runs by verdict (every verdict present, zero or not)."""
        counts = dict.fromkeys(VERDICTS, 0)
        for r in self.results:
            counts[r.verdict] += 1
        return counts

    def p_detect(self) -> tuple[float, tuple[float, float]]:
        """FAIL / N and its 95 % Clopper–Pearson interval."""
        n, fails = len(self.results), self.counts()["FAIL"]
        return fails / n, clopper_pearson(fails, n)

    def to_json(self) -> dict[str, Any]:
        """The factor's entry of ``rig evaluate --json``."""
        p, ci = self.p_detect()
        tight = self.factor < 1.0
        rates = [r.rate_pa_m3_s for r in self.results if r.rate_pa_m3_s is not None]
        return {
            "factor": self.factor,
            "true_leak_pa_m3_s": self.true_leak_pa_m3_s,
            "leak_cd_area_m2": self.cd_area_m2,
            "runs": len(self.results),
            "counts": self.counts(),
            "p_detect": p,
            "p_detect_ci95": list(ci),
            "p_false_alarm": p if tight else None,
            "p_false_alarm_ci95": list(ci) if tight else None,
            "mean_measured_pa_m3_s": sum(rates) / len(rates) if rates else None,
            "reasons": _reasons(self.results),
        }


def reports(
    factors: Sequence[float], results: Iterable[RunResult], true_leak: dict[float, tuple[float, float]]
) -> list[FactorReport]:
    """``results`` grouped by factor, in the order of ``factors``; ``true_leak``: factor → (Q, C_d·A)."""
    by_factor: dict[float, list[RunResult]] = {f: [] for f in factors}
    for r in results:
        by_factor[r.factor].append(r)
    return [
        FactorReport(f, true_leak[f][0], true_leak[f][1], tuple(sorted(by_factor[f], key=lambda r: r.seed)))
        for f in factors
        if by_factor[f]
    ]


def _reasons(results: Iterable[RunResult]) -> dict[str, int]:
    """Why runs came back INCONCLUSIVE or ABORTED: reason → runs (the commonest few)."""
    tally: dict[str, int] = {}
    for r in results:
        if r.verdict in ("INCONCLUSIVE", "ABORTED"):
            key = f"{r.verdict}: {r.reason}"
            tally[key] = tally.get(key, 0) + 1
    return dict(sorted(tally.items(), key=lambda kv: -kv[1])[:REASONS_KEPT])
