"""Print the benchmark ratios of one pytest-benchmark JSON file as a Markdown table.

    OPENBLAS_NUM_THREADS=1 pytest tests/benchmarks --benchmark-enable --benchmark-only \\
        --benchmark-json=bench.json
    python -m tests.benchmarks.ratios bench.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# (group, our benchmark, the baseline it is compared with, target ratio ours/baseline, wording)
COMPARISONS = [
    ("fit", "test_fit_rig_one_pass", "test_fit_floor_numpy_dot", 2.0, "≤ 2× numpy.dot floor"),
    ("fit", "test_fit_scipy_linregress", "test_fit_rig_one_pass", 5.0, "linregress ≥ 5× slower"),
    ("fit", "test_fit_numpy_polyfit", "test_fit_rig_one_pass", None, "polyfit / ours"),
    (
        "fit",
        "test_fit_rig_fit_decay_with_autocorrelation",
        "test_fit_floor_numpy_dot",
        1.5,
        "fit_decay ≤ 1.5× floor (issue 19)",
    ),
    (
        "fit",
        "test_fit_scipy_linregress",
        "test_fit_rig_fit_decay_with_autocorrelation",
        10.0,
        "linregress ≥ 10× slower than fit_decay (issue 19)",
    ),
    (
        "compensated",
        "test_compensated_rig_one_pass",
        "test_compensated_floor_numpy_dot",
        3.0,
        "≤ 3× numpy.dot floor",
    ),
    (
        "compensated",
        "test_compensated_numpy_divide_then_linregress",
        "test_compensated_rig_one_pass",
        None,
        "numpy p/T + linregress / ours",
    ),
    (
        "compensated",
        "test_compensated_rig_fit_decay_with_autocorrelation",
        "test_compensated_floor_numpy_dot",
        2.0,
        "compensated fit_decay ≤ 2× floor (issue 19)",
    ),
    ("sliding", "test_sliding_rig_window_1e4", "test_sliding_single_fit", 3.0, "≤ 3× one fit"),
    (
        "sample-cycle",
        "test_cycle_through_the_drivers",
        "test_cycle_raw_pyvisa_same_messages",
        1.3,
        "≤ 1.3× raw pyvisa",
    ),
    (
        "sliding",
        "test_sliding_rig_window_1e4_into_buffer",
        "test_sliding_single_fit",
        3.0,
        "≤ 3× one fit (out=)",
    ),
]

# (ours, the driver-only baseline, samples per round, target ms per sample): engine overhead per sample
OVERHEADS = [
    ("test_engine_hold_100_samples", "test_engine_driver_reads_alone_100_samples", 101, 1.0),
]
# (benchmark, target seconds): wall time of a whole procedure
WALL_TIMES = [("test_seal_repair_certification_in_simulation", 10.0)]


def main(path: str) -> None:
    data = json.loads(Path(path).read_text())
    medians = {b["name"]: b["stats"]["median"] for b in data["benchmarks"]}
    print("| benchmark | median (ms) |")
    print("|---|---:|")
    for name, median in medians.items():
        print(f"| {name} | {median * 1e3:.2f} |")
    print()
    print("| comparison | ratio | target | met |")
    print("|---|---:|---|---|")
    for _group, num, den, target, words in COMPARISONS:
        if num not in medians or den not in medians:
            continue
        ratio = medians[num] / medians[den]
        if target is None:
            met = "n/a"
        elif "slower" in words:
            met = "yes" if ratio >= target else "no"
        else:
            met = "yes" if ratio <= target else "no"
        print(f"| {num} / {den} | {ratio:.2f} | {words} | {met} |")
    for num, den, samples, target_ms in OVERHEADS:
        if num in medians and den in medians:
            per_sample_ms = (medians[num] - medians[den]) / samples * 1e3
            met = "yes" if per_sample_ms <= target_ms else "no"
            print(f"| ({num} − {den}) / {samples} | {per_sample_ms:.3f} ms | ≤ {target_ms:g} ms | {met} |")
    for name, target_s in WALL_TIMES:
        if name in medians:
            met = "yes" if medians[name] <= target_s else "no"
            print(f"| {name} | {medians[name]:.2f} s | ≤ {target_s:g} s | {met} |")


if __name__ == "__main__":
    main(sys.argv[1])
