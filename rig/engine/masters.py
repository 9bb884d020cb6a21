"""The mastering store: the offsets tight master parts set, which production tests subtract.

A differential test of a tight master part still reads a small apparent leak: the fill's heat
that the two sides do not shed alike, the head's own zero drift, the reference side's own
leak (leak-physics §1.2, §3.5: CTS's "master loss"). ``master_differential`` measures it and
keeps it here; ``measure_differential`` with ``master: NAME`` subtracts it, with its standard
uncertainty as a term of its own budget. One JSON file a master, under the data directory
that holds the runs::

    <data dir>/masters/<bench>/<channel>/<master>.json

written atomically (:func:`rig.record.atomic.write_atomically`): a crash leaves the old
offset or the new one, whole. Its date is the wall clock's, in simulation too (a simulated
run's calendar restarts at ``physics.start_date``): a maximum age is real time between runs.
A master measured on a simulated bench is kept apart from one measured on real instruments
(``simulated``): a production test never takes the one for the other. The store lives with the
engine, which hands it to the steps (they never import the record).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rig.record.atomic import write_atomically

MASTERS_DIR = "masters"


class MasterStoreError(Exception):
    """A master's file that cannot be read or written; the message names it and why."""


@dataclass(frozen=True)
class MasterOffset:
    """What a tight master read: its apparent leak rate and that rate's standard uncertainty.

    ``offset_pa_m3_s`` is the rate the differential test reports for a part that does not
    leak (a pV throughput, positive as a loss); ``uncertainty_pa_m3_s`` its standard
    uncertainty (k = 1) without the terms that scale with the rate (volume, gauge span),
    which scale a production result's corrected rate instead.
    """

    master: str
    bench: str
    channel: str
    volume: str
    offset_pa_m3_s: float
    uncertainty_pa_m3_s: float
    duration_s: float
    measured_at: str  # ISO 8601, UTC
    simulated: bool

    def age_s(self, now: dt.datetime) -> float:
        """Seconds from its measurement to ``now`` (an aware datetime)."""
        return (now - dt.datetime.fromisoformat(self.measured_at)).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """Its JSON object, as stored."""
        return asdict(self)


class MasterStore:
    """The mastering store under ``data_dir`` (a simulated bench's masters flagged ``simulated``)."""

    def __init__(self, data_dir: str | Path, *, simulated: bool) -> None:
        self.data_dir = Path(data_dir)
        self.simulated = simulated

    def path(self, bench: str, channel: str, master: str) -> Path:
        """Where the offset of ``master`` on ``bench``'s ``channel`` is kept."""
        parts = (quote(part, safe="") for part in (bench, channel, f"{master}.json"))
        return self.data_dir.joinpath(MASTERS_DIR, *parts)

    def save(self, offset: MasterOffset) -> Path:
        """Keep ``offset`` (replacing the master's last one, atomically); the file written."""
        path = self.path(offset.bench, offset.channel, offset.master)
        data = json.dumps(offset.to_json(), indent=2, sort_keys=True).encode() + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as exc:
            raise MasterStoreError(f"cannot keep master {offset.master!r} in {path}: {exc.strerror}") from exc
        return path

    def load(self, bench: str, channel: str, master: str) -> MasterOffset | None:
        """The last offset of ``master`` on ``bench``'s ``channel`` (None: never measured here).

        A file that is not such an offset, or one measured on the other kind of bench
        (simulated or real), raises :class:`MasterStoreError` saying so.
        """
        path = self.path(bench, channel, master)
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise MasterStoreError(f"master {master!r}: cannot read {path}: {exc}") from exc
        try:
            offset = MasterOffset(**raw)
            dt.datetime.fromisoformat(offset.measured_at)
        except (TypeError, ValueError) as exc:
            raise MasterStoreError(f"master {master!r}: {path} is not a master's offset ({exc})") from exc
        numbers = (offset.offset_pa_m3_s, offset.uncertainty_pa_m3_s)
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
            raise MasterStoreError(f"master {master!r}: {path} holds no finite offset")
        if offset.simulated != self.simulated:
            where = "a simulated bench" if offset.simulated else "real instruments"
            raise MasterStoreError(f"master {master!r} in {path} was measured on {where}, not this bench")
        return offset
