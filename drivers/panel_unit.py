"""Readings converted with the unit in force when they were taken, on a controller whose unit can
change at its front panel at any time and whose readings do not say which unit they are in.

The TPG 36x (``PRn`` / ``UNI``), the VGC 50x and the XGS-600 (``#000F`` / ``#0013``) print bare
numbers in the unit the controller shows. A unit asked once and trusted makes every reading after a
change at the panel wrong by the units' ratio (760 Torr read as 76000 Pa), so the unit is asked right
after each reading, in the same transaction: if it is the unit known before the reading (asked after
the previous one), the reading was taken in it; if not, the change came before or after the reading,
which cannot be told, and the reading is taken again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from drivers.errors import ProtocolError

__all__ = ["UNIT_SETTLE_ATTEMPTS", "taken_under_one_unit"]

R = TypeVar("R")
U = TypeVar("U")

#: Readings a call takes before giving up while the unit keeps changing under them.
UNIT_SETTLE_ATTEMPTS = 2


def taken_under_one_unit(
    take: Callable[[], R],
    has_value: Callable[[R], bool],
    ask_unit: Callable[[], U],
    known_unit: U | None,
    instrument: str,
) -> tuple[R, U | None]:
    """What ``take`` read, and the unit it was read in (None when it holds no value to convert).

    ``ask_unit`` asks the controller's unit now (and remembers it as the next call's
    ``known_unit``); ``known_unit`` is the one asked last, None when none is known (a new driver, a
    unit change that did not complete): the unit asked one exchange after the reading is then as
    close as the protocol gets. The caller holds the lock, inside one retried query. Raises
    :class:`~drivers.errors.ProtocolError` if the unit changed under each of
    :data:`UNIT_SETTLE_ATTEMPTS` readings.
    """
    before = known_unit
    for _ in range(UNIT_SETTLE_ATTEMPTS):
        raws = take()
        if not has_value(raws):
            return raws, None
        after = ask_unit()
        if before is None or after == before:
            return raws, after
        before = after
    raise ProtocolError(f"{instrument}: the unit changed during each of {UNIT_SETTLE_ATTEMPTS} readings")
