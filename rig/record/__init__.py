"""Run records and recorded series: reading what the rig (or anyone) wrote down.

:class:`RunRecord` is one run directory read back typed, and :class:`Measurement` one of the
measurements it holds; both are imported on first use, since the engine imports the record's
writers and the record reads steps that import the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rig.record.measurement import Measurement
    from rig.record.run_record import RunRecord

__all__ = ["Measurement", "RunRecord"]


def __getattr__(name: str) -> Any:
    if name == "Measurement":
        from rig.record.measurement import Measurement

        return Measurement
    if name == "RunRecord":
        from rig.record.run_record import RunRecord

        return RunRecord
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
