"""Peak memory and wall time of a day's pressure decay at 10 Hz, one ``rig run`` process each.

``procedures/pressure_decay.yaml`` sampled every 0.1 s with a 24 h ``measure_decay``
(864 000 samples of the decay), run with ``rig run PROC --sim --data-dir DIR --json`` on a
virtual clock. Each labelled ``rig`` runs in turn, round after round (before, after, before,
after...), so that all share the machine's load; each run's peak resident memory is its
process's own (``wait4``), its wall time the whole command's. The verdicts and leak rates
of the labels must agree.

    python -m tests.benchmarks.memory_day --rig before=../wt-before/.venv/bin/rig \\
        --rig after=.venv/bin/rig --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = ROOT / "procedures" / "pressure_decay.yaml"
TARGET_MB = 150.0


@dataclass(frozen=True)
class Run:
    """One ``rig run``: what it cost and what it found."""

    label: str
    round: int
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    verdict: str | None
    leak_rate_pa_m3_s: float | None


def day_procedure(directory: Path, duration: str, period: str) -> Path:
    """``pressure_decay.yaml`` with ``sample_period`` and the decay's ``duration`` replaced."""
    text = PROCEDURE.read_text()
    text = re.sub(r"(?m)^bench: (.*)$", lambda m: f"bench: {PROCEDURE.parent / m.group(1)}", text)
    text = re.sub(r"(?m)^sample_period: .*$", f"sample_period: {period}", text)
    decay = re.compile(r"(?m)^(  - measure_decay: \{.*duration: )[^,]+(,.*)$")
    if not decay.search(text):
        raise SystemExit(f"no measure_decay with a duration in {PROCEDURE}")
    path = directory / "pressure_decay_day.yaml"
    path.write_text(decay.sub(lambda m: f"{m.group(1)}{duration}{m.group(2)}", text))
    return path


def run_once(label: str, rig: str, procedure: Path, round_: int, timeout_s: float) -> Run:
    """One ``rig run`` in its own process; its peak RSS from ``wait4``, killed after ``timeout_s``."""
    data = Path(tempfile.mkdtemp(prefix="memory-day-"))
    out = data / "stdout"
    try:
        with out.open("wb") as stdout:
            start = time.perf_counter()
            process = subprocess.Popen(
                [rig, "run", str(procedure), "--sim", "--data-dir", str(data), "--json"],
                stdout=stdout,
                stderr=subprocess.DEVNULL,
            )
            deadline = start + timeout_s
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    process.kill()
                time.sleep(0.2)
            wall_s = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
        lines = out.read_text().strip().splitlines()
        summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        decay = summary.get("measurements", {}).get("decay", {})
        return Run(
            label,
            round_,
            wall_s,
            usage.ru_maxrss / 1024.0,  # KiB on Linux
            process.returncode,
            summary.get("verdict"),
            decay.get("value"),
        )
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    """Run the labelled ``rig`` commands interleaved and print each run and the spread."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rig", action="append", required=True, help="LABEL=PATH of a rig command")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", default="24 h", help="the decay's duration (default 24 h)")
    parser.add_argument("--period", default="0.1 s", help="the sample period (default 0.1 s)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed")
    args = parser.parse_args()
    rigs = [tuple(spec.split("=", 1)) for spec in args.rig]
    with tempfile.TemporaryDirectory() as directory:
        procedure = day_procedure(Path(directory), args.duration, args.period)
        runs: list[Run] = []
        for round_ in range(1, args.rounds + 1):
            for label, rig in rigs:
                run = run_once(label, rig, procedure, round_, args.timeout)
                runs.append(run)
                print(
                    f"round {run.round} {run.label}: {run.wall_s:.1f} s wall, "
                    f"peak RSS {run.peak_rss_mb:.1f} MB, exit {run.exit_code}, {run.verdict}, "
                    f"{run.leak_rate_pa_m3_s!r} Pa·m³/s",
                    flush=True,
                )
    print(f"\n{args.duration} decay at {args.period}, {args.rounds} rounds interleaved")
    print("| label | peak RSS MB (min–max) | wall s (min–max) | verdicts | leak rates agree |")
    print("|---|---:|---:|---|---|")
    rates = {r.leak_rate_pa_m3_s for r in runs}
    for label, _ in rigs:
        mine = [r for r in runs if r.label == label]
        rss, wall = [r.peak_rss_mb for r in mine], [r.wall_s for r in mine]
        print(
            f"| {label} | {min(rss):.1f}–{max(rss):.1f} | {min(wall):.0f}–{max(wall):.0f} | "
            f"{', '.join(sorted({str(r.verdict) for r in mine}))} | {'yes' if len(rates) == 1 else 'NO'} |"
        )
    for label, _ in rigs:
        worst = max(r.peak_rss_mb for r in runs if r.label == label)
        print(
            f"{label}: target ≤ {TARGET_MB:g} MB {'met' if worst <= TARGET_MB else 'missed'} ({worst:.1f} MB)"
        )


if __name__ == "__main__":
    main()
