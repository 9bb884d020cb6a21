"""The detection curve of an evaluation as a PNG: p_detect with its 95 % intervals against the factor."""

from __future__ import annotations

from pathlib import Path

from rig.evaluation.grid import FactorReport

# EPA's protocol for leak detection methods: at least this probability of detection at the rated leak.
TARGET_P_DETECT = 0.95


def detection_curve(factors: list[FactorReport], title: str, path: Path) -> None:
    """Draw p_detect (Clopper–Pearson error bars) against the factor of the limit, log x, to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [f.factor for f in factors]
    ps = [f.p_detect()[0] for f in factors]
    lows = [p - f.p_detect()[1][0] for p, f in zip(ps, factors, strict=True)]
    highs = [f.p_detect()[1][1] - p for p, f in zip(ps, factors, strict=True)]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        ax.errorbar(xs, ps, yerr=[lows, highs], fmt="o-", capsize=4, label="P(detect) = FAIL / N, 95 % CI")
        ax.axhline(TARGET_P_DETECT, color="tab:red", linestyle="--", linewidth=1, label="95 %")
        ax.axvline(1.0, color="grey", linestyle=":", linewidth=1, label="the limit (factor 1)")
        ax.set_xscale("log")
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.minorticks_off()
        ax.set_xlabel("true leak / limit")
        ax.set_ylabel("probability of detection")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
