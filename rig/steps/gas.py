"""What the steps that move gas share: which gauge shows a volume, and when a reading is there."""

from __future__ import annotations

from rig.bench import BenchSpec
from rig.engine.abort import Abort

# The atmosphere a vent heads for, and how near it counts as vented (the weather's spread).
ATMOSPHERE_PA = 101325.0
VENTED_WITHIN_PA = 2000.0
# How long a vent waits for the atmosphere when the step gives no timeout.
VENT_TIMEOUT_S = 60.0


def pressure_channel(bench: BenchSpec, volume: str, channel: str | None, location: str) -> str:
    """The gauge a step watches: the one it names, else the first pressure channel on its volume."""
    if channel is not None:
        return channel
    for name, spec in bench.channels.items():
        if spec.volume == volume and spec.measures == "pressure":
            return name
    raise Abort(f"{location}: no pressure channel on volume {volume!r}")


def near(value: float | None, target: float, tolerance: float) -> bool:
    """Whether a reading is there and within ``tolerance`` of ``target``."""
    return value is not None and abs(value - target) <= tolerance
