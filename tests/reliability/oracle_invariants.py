"""The invariants every oracle run is judged by, against the simulator's own state.

* **I1** a safe state claimed (``results.json`` ``safe_state_confirmed: true``) is the truth at
  the moment of the claim: every valve physically where the safe state puts it (once the motion
  already commanded has run its opening delay), and every volume the safe state joins to the
  atmosphere within 2 kPa of the atmosphere's true (drifting) pressure.
* **I2** no PASS measurement over a window during which a valve it relied on (one with exactly
  one end in the measured volume's group, under the commanded states) was physically not where
  the procedure put it, or during which a zero shift of its gauge (above three steps of the
  gauge's floor: noise, resolution, printed digit) started or ended with readings on both
  sides of it. Faults that only lose data do not count. A reference-leak check's window starts
  with its background fit (the step's start). Thermocouples have no value-altering fault in
  the simulator, so only the pressure channel is judged.
* **I3** the verdict is recorded as it ended: ``run()`` returned, ``results.json`` holds its
  verdict and the index the same verdict with the matching status (the CLI's exit code is
  checked by :mod:`tests.reliability.oracle_cli`).
* **I4** the record verifies against the campaign's trusted key.
* **I5** nothing served before the first fault (or Ctrl-C) is missing: a row for every sample
  period, and no empty cell but where the gauge was out of its range.
* **I6** (beyond the brief's five: the false alarm of ``--seed 14``) no false alarm: a safe state
  NOT confirmed although no fault was active from the cleanup on, no Ctrl-C was pressed, and
  the physics shows it (valves in place, vented volumes within 1 kPa of the atmosphere).

Each violation carries a signature (the invariant and what broke, without the numbers) that
groups alike violations: the campaign shrinks one scenario per signature.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from rig.engine.runner import STATUS, RunVerdict
from rig.engine.topology import joined
from rig.procedure.loader import display_step_pa, sensor_floor
from rig.record.integrity import describe, verify_run
from rig.record.run_store import RunStore, read_samples
from tests.reliability.oracle_play import Played, Snapshot

INVARIANTS = ("I1", "I2", "I3", "I4", "I5", "I6")
AT_ATMOSPHERE_PA = 2000.0
STANDARD_ATMOSPHERE_PA = 101325.0
NEAR_SHARE = 0.10  # "short of the atmosphere" (a vent judged done too soon) or "far from it"
CLEARLY_VENTED_PA = 1000.0  # I6 asks more of the physics before it calls a refusal false
ZERO_SHIFT_FLOORS = 3.0
NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"


@dataclass(frozen=True)
class Violation:
    """One invariant a run broke, why, and a coarse signature that groups alike violations."""

    invariant: str
    message: str
    signature: str


def check_all(played: Played, trusted_key_hex: str) -> list[Violation]:
    """Every invariant's violation in ``played`` (empty: the run held them all)."""
    results = _results(played)
    out = [
        i1_safe_claim(played, results),
        i2_pass_measurements(played, results),
        i3_verdict_recorded(played, results),
        i4_record_verifies(played, trusted_key_hex),
        i5_samples_before_fault(played),
        i6_no_false_alarm(played, results),
    ]
    return [v for v in out if v is not None]


def _results(played: Played) -> dict[str, Any] | None:
    path = played.run_dir / "results.json"
    return json.loads(path.read_text()) if path.exists() else None


def _kpa(pa: float) -> str:
    return f"{pa / 1000.0:.1f} kPa" if abs(pa) >= 1000.0 else f"{pa:.3g} Pa"


@dataclass(frozen=True)
class Unsafe:
    """What of the safe state the physics lacks: valves out of place, vented volumes away."""

    valves: dict[str, bool]  # valve → where it physically is (open), against the safe state
    away: dict[str, float]  # vented volume → its true pressure, Pa
    outside_pa: float | None

    def __bool__(self) -> bool:
        return bool(self.valves or self.away)

    def text(self) -> str:
        """``supply open (safe: closed), chamber at 105.1 kPa, atmosphere at 101.3 kPa``."""
        parts = [
            f"{v} {'open' if o else 'closed'} (safe: {'closed' if o else 'open'})"
            for v, o in self.valves.items()
        ]
        parts += [f"{v} at {_kpa(p)}" for v, p in self.away.items()]
        if self.away and self.outside_pa is not None:
            parts.append(f"atmosphere at {_kpa(self.outside_pa)}")
        return ", ".join(parts)

    def near(self) -> bool:
        """Whether every away volume is within 10 % of the atmosphere: short of it, as a vent
        declared done too soon leaves it (far: nothing vented it, or nothing watched)."""
        outside = self.outside_pa or STANDARD_ATMOSPHERE_PA
        return all(abs(p - outside) <= NEAR_SHARE * outside for p in self.away.values())


def unsafe(played: Played, snapshot: Snapshot, within_pa: float) -> Unsafe:
    """What of the bench's safe state ``snapshot`` lacks (vented volumes judged within ``within_pa``)."""
    bench = played.procedure.bench
    valves = {v: snapshot.valves[v] for v, open_ in bench.safe_state.items() if snapshot.valves[v] != open_}
    outside = snapshot.pressures_pa.get("atmosphere")
    away: dict[str, float] = {}
    if outside is not None:
        vented = [v for v in bench.volumes if v in joined(bench, bench.safe_state, "atmosphere")]
        away = {
            v: snapshot.pressures_pa[v] for v in vented if abs(snapshot.pressures_pa[v] - outside) > within_pa
        }
    return Unsafe(valves, away, outside)


def i1_safe_claim(played: Played, results: dict[str, Any] | None) -> Violation | None:
    """I1: a claimed safe state is the physics' at the moment of the claim."""
    if results is None or results.get("safe_state_confirmed") is not True:
        return None
    snapshot = played.truth.claim() or played.final
    wrong = unsafe(played, snapshot, AT_ATMOSPHERE_PA)
    if not wrong:
        return None
    how = "readback only, after a second Ctrl-C" if len(played.truth.presses) >= 2 else "readback and gas"
    signature = "+".join(sorted(wrong.valves)) + " out of place" if wrong.valves else "valves in place"
    if wrong.away:
        signature += (
            "; volumes short of the atmosphere" if wrong.near() else "; volumes far from the atmosphere"
        )
    return Violation(
        "I1",
        f"safe state claimed confirmed at t = {snapshot.t_s:.1f} s ({how}), but the physics has "
        f"{wrong.text()}",
        f"I1 {signature} ({how})",
    )


def _boundary(played: Played, commanded: tuple[bool, ...], volume: str) -> list[int]:
    """Indices of the valves with exactly one end in ``volume``'s group under ``commanded``."""
    bench = played.procedure.bench
    names = played.truth.valves
    places = joined(bench, dict(zip(names, commanded, strict=True)), volume)
    group = {v for v in bench.volumes if v in places}
    return [i for i, n in enumerate(names) if sum(end in group for end in bench.valves[n].between) == 1]


def i2_pass_measurements(played: Played, results: dict[str, Any] | None) -> Violation | None:
    """I2: no PASS while a relied-on valve was out of place or the gauge's zero moved."""
    if results is None:
        return None
    truth = played.truth
    for name, entry in results.get("measurements", {}).items():
        if entry.get("outcome") != "PASS" or "window_s" not in entry:
            continue
        start, end = (float(x) for x in entry["window_s"])
        step = name.split(".")[0]  # a compartment isolation names its segments "STEP.SEGMENT"
        if "certified" in entry:  # a reference-leak check: its background fit comes first
            start = min(
                (t for n, t in zip(truth.step_names, truth.times, strict=True) if n == step), default=start
            )
        rows = [
            i
            for i, t in enumerate(truth.times)
            if truth.step_names[i] == step and start - 1e-9 <= t <= end + 1e-9
        ]
        what = f"{name} PASS over [{start:.0f}, {end:.0f}] s, but "
        found = _valve_out_of_place(played, entry["channel"], rows) or _zero_moved(
            played, entry["channel"], rows
        )
        if found is not None:
            return Violation("I2", what + found[0], found[1])
    return None


def _valve_out_of_place(played: Played, channel: str, rows: list[int]) -> tuple[str, str] | None:
    """A valve on the boundary of ``channel``'s volume group physically not where it was commanded."""
    truth = played.truth
    volume = played.procedure.bench.channels[channel].volume
    assert volume is not None
    for i in rows:
        for k in _boundary(played, truth.commanded[i], volume):
            if truth.physical[i][k] != truth.commanded[i][k]:
                valve, want = truth.valves[k], "open" if truth.commanded[i][k] else "closed"
                return (
                    f"{valve} (on the boundary of {volume}'s group) was physically "
                    f"{'closed' if want == 'open' else 'open'} while commanded {want}, "
                    f"from t = {truth.times[i]:.0f} s",
                    f"I2 valve {valve}",
                )
    return None


def _zero_moved(played: Played, channel: str, rows: list[int]) -> tuple[str, str] | None:
    """A zero shift of ``channel``'s gauge that began or ended among ``rows`` and altered fitted values.

    A shift counts when it is above three steps of the gauge's floor and the channel has
    readings both with and without it in the window (a shift that only pushes the gauge out of
    range loses data; one over the whole window offsets it and leaves the slope alone).
    """
    if not rows:
        return None
    bench, truth = played.procedure.bench, played.truth
    spec = bench.channels[channel]
    assert spec.volume is not None
    mean_p = sum(truth.pressures[i][truth.volumes.index(spec.volume)] for i in rows) / len(rows)
    resolution, noise = sensor_floor(bench, channel, mean_p)
    floor = max(resolution, noise, display_step_pa(bench.instruments[spec.instrument].model, mean_p))
    header, samples = read_samples(played.run_dir)
    column = header.index(channel)
    read = [len(r) > column and r[column] != "" for r in samples]
    for armed in truth.armed:
        fault = armed["fault"]
        if fault["kind"] != "zero_shift" or (fault["instrument"], fault["channel"]) != (
            spec.instrument,
            spec.channel,
        ):
            continue
        if not abs(float(fault["magnitude"])) > ZERO_SHIFT_FLOORS * floor:
            continue
        begin = armed["at_s"]
        finish = math.inf if fault.get("duration_s") is None else begin + float(fault["duration_s"])
        shifted = {begin <= truth.times[i] < finish for i in rows if i < len(read) and read[i]}
        if shifted == {True, False}:
            when = begin if truth.times[rows[0]] < begin else finish
            return (
                f"{channel} shifted its zero by {float(fault['magnitude']):+.4g} Pa at t = {when:.0f} s "
                f"within the window (gauge floor {floor:.3g} Pa)",
                "I2 zero shift in the window",
            )
    return None


def i3_verdict_recorded(played: Played, results: dict[str, Any] | None) -> Violation | None:
    """I3: run() returned a verdict, results.json and the index hold it."""
    if played.raised is not None:
        first = played.raised.splitlines()[0]
        return Violation("I3", f"no verdict recorded: {first}", f"I3 {first.split()[0]} escaped run()")
    assert played.outcome is not None
    verdict = played.outcome.verdict.value
    if results is None:
        return Violation("I3", "no results.json", "I3 no results.json")
    if results.get("verdict") != verdict:
        return Violation("I3", f"results.json says {results.get('verdict')}, the run {verdict}", "I3 results")
    listed = [r for r in RunStore(played.data_dir).runs() if r.run_dir == str(played.run_dir)]
    status = STATUS[RunVerdict(verdict)]
    if len(listed) != 1 or listed[0].verdict != verdict or listed[0].status != status:
        seen = [(r.status, r.verdict) for r in listed]
        return Violation("I3", f"the index lists {seen}, not ({status}, {verdict})", "I3 index")
    return None


def i4_record_verifies(played: Played, trusted_key_hex: str) -> Violation | None:
    """I4: the record verifies against the trusted key (not judged when run() raised: see I3)."""
    if played.raised is not None:
        return None
    report = verify_run(played.run_dir, trusted_public_key_hex=trusted_key_hex)
    if report.ok:
        return None
    return Violation("I4", f"rig verify: {'; '.join(describe(report))}", "I4 record does not verify")


def _legitimately_empty(played: Played, channel: str, i: int) -> bool:
    """Whether ``channel`` may read nothing at truth sample ``i``: its gauge was out of range."""
    spec = played.procedure.bench.channels[channel]
    if spec.measures == "differential_pressure" and spec.volumes is not None:
        return _head_out_of_range(played, channel, i)
    if spec.measures != "pressure" or spec.volume is None:
        return False
    gauge = played.simulation.gauge_at.get((spec.instrument, spec.channel))
    if gauge is None:
        return False
    model = gauge.model
    p = played.truth.pressures[i][played.truth.volumes.index(spec.volume)]
    spread = 3.0 * model.accuracy_rel * p + 5.0 * math.hypot(model.noise_pa, model.noise_rel * p)
    return p + spread >= model.max_pa or p - spread <= model.min_pa


def _head_out_of_range(played: Played, channel: str, i: int) -> bool:
    """Whether a differential head's true Δp at truth sample ``i`` was at or past its range."""
    spec = played.procedure.bench.channels[channel]
    head = played.simulation.differential_at.get((spec.instrument, spec.channel))
    if head is None or spec.volumes is None:
        return False
    model, pressures, volumes = head.model, played.truth.pressures[i], played.truth.volumes
    dp = pressures[volumes.index(spec.volumes[0])] - pressures[volumes.index(spec.volumes[1])]
    spread = 3.0 * model.accuracy_rel * abs(dp) + 5.0 * math.hypot(model.noise_pa, model.noise_rel * abs(dp))
    return dp + spread >= model.max_pa or dp - spread <= model.min_pa


def i5_samples_before_fault(played: Played) -> Violation | None:
    """I5: every sample period before the first fault has its row, every cell a value."""
    truth = played.truth
    if not truth.times:
        return None
    period = played.procedure.sample_period_s
    horizon = min(truth.first_fault_s(), truth.times[-1] + period / 2.0)
    header, rows = read_samples(played.run_dir)
    before = [(i, r) for i, r in enumerate(rows) if float(r[0]) < horizon - 1e-9]
    times = sorted({float(r[0]) for _, r in before})
    expected = math.ceil(horizon / period - 1e-9)
    where = f"before t = {horizon:.1f} s" + (" (the first fault)" if truth.first_fault_s() <= horizon else "")
    if len(times) != expected or (times and abs(times[0]) > 1e-9):
        return Violation("I5", f"{len(times)} sample times {where}, {expected} expected", "I5 rows missing")
    gaps = [(a, b) for a, b in itertools.pairwise(times) if b - a > period + 1e-6]
    if gaps:
        return Violation("I5", f"no sample between {gaps[0][0]:g} and {gaps[0][1]:g} s {where}", "I5 gap")
    # The record keeps the first reading of each instant (a virtual clock stands still while
    # steps that take no time sample): a row's truth is the first sample at its time.
    first_at: dict[float, int] = {}
    for j, t in enumerate(truth.times):
        first_at.setdefault(t, j)
    for _, row in before:
        if len(row) != len(header):
            return Violation(
                "I5", f"row at t = {row[0]} has {len(row)} cells, not {len(header)}", "I5 short row"
            )
        for col, cell in enumerate(row[2:], start=2):
            if cell != "":
                continue
            channel = header[col]
            i = first_at.get(float(row[0]))
            if i is None or not _legitimately_empty(played, channel, i):
                return Violation(
                    "I5", f"{channel} empty at t = {float(row[0]):g} s {where}", f"I5 empty cell {channel}"
                )
    return None


def i6_no_false_alarm(played: Played, results: dict[str, Any] | None) -> Violation | None:
    """I6: a safe state refused although nothing was wrong from the cleanup on is a false alarm."""
    truth = played.truth
    if results is None or results.get("safe_state_confirmed") is not False or truth.presses:
        return None
    if truth.cleanup_s is None:
        return None
    for armed in truth.armed:
        duration = armed["fault"].get("duration_s")
        if duration is None or armed["at_s"] + float(duration) > truth.cleanup_s:
            return None
    refused = [s for s in truth.safe_state if s.message.startswith("safe state NOT confirmed")]
    snapshot = refused[-1] if refused else played.final
    if unsafe(played, snapshot, CLEARLY_VENTED_PA):
        return None
    refusal = snapshot.message.removeprefix("safe state NOT confirmed: ")
    shown = ", ".join(f"{v} at {_kpa(p)}" for v, p in snapshot.pressures_pa.items())
    return Violation(
        "I6",
        f"safe state NOT confirmed ({refusal}) although no fault was active from the cleanup on and "
        f"the physics shows it: every valve in place, {shown}",
        f"I6 {re.sub(NUMBER, '#', refusal)[:70]}",
    )
