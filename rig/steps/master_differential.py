"""``master_differential``: measure a tight master part and keep its offset for production tests.

A tight master (a part known not to leak, in the test part's place) run through the same
cycle as the production parts reads a small apparent rate: what the differential test does to
a part that does not leak (leak-physics §1.2, §4.5). This step measures it as
``measure_differential`` does (same fit, budget and refusals) and, when the master passes its
``limit`` (the largest apparent rate a tight master may show: more says the master or the
reference leaks), keeps it in the mastering store (:mod:`rig.engine.masters`) as ``master``:
rate, standard uncertainty, channel, volume, window, bench and date. A production
``measure_differential`` with ``master: NAME`` subtracts it.

A master that fails its limit, or whose measurement is refused (not isolated, not steady,
incomplete), sets no offset: the last good one stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import ClassVar

from rig.analysis.mastering import offset_uncertainty
from rig.engine.masters import MasterOffset, MasterStoreError
from rig.outcome import Outcome
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import LEAK_RATE, TEXT, step_field
from rig.steps.measure_differential import DifferentialWindow, check_differential, differential_measurement

NOT_KEPT = "not kept"


@dataclass(frozen=True, kw_only=True)
class MasterDifferential(DifferentialWindow):
    """Measure the tight master on ``channel`` over ``duration_s``; keep its offset as ``master``."""

    kind: ClassVar[str] = "master_differential"
    bound_field: ClassVar[str | None] = "duration"

    master: str = step_field("master", TEXT)
    limit_pa_m3_s: float = step_field("limit", LEAK_RATE)

    def check(self, ctx: CheckContext) -> None:
        """As ``measure_differential``: a differential channel, ``volume`` on one side, a resolvable limit."""
        if ctx.has("name"):
            ctx.measure(self.name)
        check_differential(ctx, self.channel, self.volume, self.duration_s, self.limit_pa_m3_s)

    def run(self, ctx: StepContext) -> None:
        """Measure the master, judge it against its limit, keep its offset if it passed."""
        limit = self.limit_pa_m3_s
        entry = differential_measurement(
            ctx, self.name, self.channel, self.volume, self.duration_s, limit, None, sealed=False
        )
        # The limit bounds the offset's size either way: a master whose test side surely gains
        # on the reference faster than the limit says the reference leaks (or feeds it).
        if entry.outcome is Outcome.PASS and entry.ucl95_pa_m3_s is not None and entry.ucl95_pa_m3_s < -limit:
            entry = replace(entry, outcome=Outcome.FAIL)
        elif (
            entry.outcome is Outcome.PASS and entry.lcl95_pa_m3_s is not None and entry.lcl95_pa_m3_s < -limit
        ):
            entry = entry.withdrawn(
                f"the master may gain on the reference faster than its limit ({entry.lcl95_pa_m3_s:.3g} "
                f"Pa·m³/s at the 95 % bound): test longer, or check the reference for a leak"
            )
        if entry.outcome is Outcome.PASS:
            try:
                terms = {} if entry.uncertainty is None else entry.uncertainty.terms
                kept = self._keep(ctx, entry.value_pa_m3_s, {k: u for k, u in terms.items() if u is not None})
            except MasterStoreError as exc:
                entry = entry.withdrawn(f"{NOT_KEPT}: {exc}")
            else:
                if kept is None:
                    entry = entry.withdrawn(
                        f"{NOT_KEPT}: this run is not recorded, so it has no mastering store"
                    )
        ctx.record(self.name, entry)

    def _keep(self, ctx: StepContext, rate: float | None, terms: dict[str, float]) -> MasterOffset | None:
        store = ctx.masters
        if store is None or rate is None:
            return None
        offset = MasterOffset(
            master=self.master,
            bench=ctx.bench.name,
            channel=self.channel,
            volume=self.volume,
            offset_pa_m3_s=rate,
            uncertainty_pa_m3_s=offset_uncertainty(terms),
            duration_s=self.duration_s,
            measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            simulated=store.simulated,
        )
        path = store.save(offset)
        ctx.event(
            "master",
            f"{self.name}: master {self.master!r} offset {rate:.3g} ± {offset.uncertainty_pa_m3_s:.2g} "
            f"Pa·m³/s kept in {path}",
            **offset.to_json(),
        )
        return offset
