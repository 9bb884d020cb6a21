"""``results.json``: how a run ended, its measurements, its findings and the faults it rode through.

Written once, whole, when the run finishes (:func:`write_results`, called by
:meth:`rig.record.run_writer.RunWriter.finish`); :class:`RunResults` is its typed form, read
back by :class:`rig.record.run_record.RunRecord`. The object's keys, in order::

    verdict, reason, safe_state_confirmed, safe_state_reason, safe_state_evidence, measurements,
    <findings: comparisons, leaking_segment, ...>, faults, record_rebuilt

Records older than the safe state's evidence lack ``safe_state_reason`` and
``safe_state_evidence``; a field a record lacks reads as None and is left out when written again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rig.outcome import Outcome, outcome_of
from rig.record.atomic import write_atomically
from rig.record.conditions import with_conditions
from rig.record.measurement import Comparison, Measurement
from rig.record.recorded import flag, text

RESULTS = "results.json"


@dataclass(frozen=True)
class RunResults:
    """A run's results: the verdict and why, each measurement, the safe state's claim and its evidence.

    Its fields are named as the object's keys. ``findings`` are the other keys: what steps found
    beyond measurements, as recorded (JSON values, in the order they were found): ``comparisons``
    (read typed by :attr:`comparisons`), ``leaking_segment``, and whatever a plugin's step adds.
    """

    verdict: Outcome | None
    reason: str | None
    # None: the record has no measurements at all (a hand-made or damaged one; the engine
    # always records them, none taken included).
    measurements: Mapping[str, Measurement] | None = None
    safe_state_confirmed: bool | None = None
    # Why the safe state is not confirmed (None when it is), and what showed each part of it.
    safe_state_reason: str | None = None
    safe_state_evidence: Mapping[str, Any] | None = None
    findings: Mapping[str, Any] = field(default_factory=dict)
    # Instrument trouble the run rode through: channel → failed reads, instrument → retries.
    faults: Mapping[str, Any] | None = None
    record_rebuilt: str | None = None  # why the run directory had to be rebuilt at the end, if it had

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """The before/after comparisons the run made (``compare`` steps)."""
        found = self.findings.get("comparisons")
        return tuple(Comparison.from_json(c) for c in found) if isinstance(found, list) else ()

    @property
    def leaking_segment(self) -> str | None:
        """The segment a compartment isolation named as leaking (None: none was, or none was looked for)."""
        found = self.findings.get("leaking_segment")
        return str(found) if found else None

    def to_json(self) -> dict[str, Any]:
        """The ``results.json`` object (see the module's docstring for its keys)."""
        out: dict[str, Any] = {}
        if self.verdict is not None:
            out["verdict"] = self.verdict.value
        if self.reason is not None:
            out["reason"] = self.reason
        if self.safe_state_confirmed is not None:
            out["safe_state_confirmed"] = self.safe_state_confirmed
        if self.safe_state_evidence is not None or self.safe_state_reason is not None:
            # Null says "confirmed": stated whenever the evidence is.
            out["safe_state_reason"] = self.safe_state_reason
        if self.safe_state_evidence is not None:
            out["safe_state_evidence"] = self.safe_state_evidence
        if self.measurements is not None:
            out["measurements"] = {name: m.to_json() for name, m in self.measurements.items()}
        out.update(self.findings)
        if self.faults is not None:
            out["faults"] = self.faults
        if self.record_rebuilt is not None:
            out["record_rebuilt"] = self.record_rebuilt
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunResults:
        """The results recorded as ``data``, as far as they have the right types."""
        evidence, faults, measured = (
            data.get("safe_state_evidence"),
            data.get("faults"),
            data.get("measurements"),
        )
        return cls(
            verdict=outcome_of(data.get("verdict")),
            reason=text(data.get("reason")),
            measurements=(
                {str(name): Measurement.from_json(str(name), entry) for name, entry in measured.items()}
                if isinstance(measured, Mapping)
                else None
            ),
            safe_state_confirmed=flag(data.get("safe_state_confirmed")),
            safe_state_reason=text(data.get("safe_state_reason")),
            safe_state_evidence=evidence if isinstance(evidence, Mapping) else None,
            findings={k: v for k, v in data.items() if k not in _FIELDS},
            faults=faults if isinstance(faults, Mapping) else None,
            record_rebuilt=text(data.get("record_rebuilt")),
        )


# The keys of the object that are fields of their own; every other key is a finding.
_FIELDS = frozenset(f.name for f in fields(RunResults) if f.name != "findings")


def write_results(run_dir: Path, results: Mapping[str, Any]) -> None:
    """Write ``results`` (a :meth:`RunResults.to_json` object) as the run's ``results.json``.

    Each measurement gains its test conditions, read from the run's own files in ``run_dir``
    (:func:`rig.record.conditions.with_conditions`). Whole or absent: a kill while finishing
    must not leave half a file. Raises OSError when the disk refuses it.
    """
    document = json.dumps(with_conditions(run_dir, results), indent=2, default=str) + "\n"
    write_atomically(run_dir / RESULTS, document.encode("utf-8"))
