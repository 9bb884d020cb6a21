"""What a procedure will cost, computed over its step tree without ever expanding a repeat.

A ``repeat: {times: N, steps: [...]}`` executes its steps N times, so the executed steps of a
procedure are a product of nested counts: 8 nested repeats of 1000 are 10²⁴ steps. Listing
them (as the runner once did, to show "step 12 of 40" and the time left) takes memory in
proportion; here every figure is arithmetic over the tree instead: a repeat counts
``times × (its steps' count)``, its durations ``times × (its steps' durations)``. The runner's
progress and the validator's bounds both read a :class:`Plan`; each step says what it costs
(``Step.planned_duration``), and a container (a repeat) how many passes it makes of its steps.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple, TypeVar

if TYPE_CHECKING:  # the loader builds steps and imports this module: only the type is needed here
    from rig.steps import Step


@dataclass(frozen=True)
class _Sequence:
    """Steps run one after another, with running totals to find a position among them quickly."""

    nodes: tuple[_Node, ...]
    ends: tuple[int, ...]  # executed steps up to and including each node
    nominal_after: tuple[float, ...]  # nominal seconds of the nodes after each one
    count: int
    nominal_s: float
    max_s: float
    # What the nodes after each one may add beyond their nominal time (timeouts of steps that end
    # on a condition), and how many steps after each one wait with no bound at all.
    extra_after: tuple[float, ...] = ()
    unbounded_after: tuple[int, ...] = ()
    extra_s: float = 0.0
    unbounded: int = 0


@dataclass(frozen=True)
class _Node:
    """One step as listed: the executed steps it stands for and their summed durations."""

    step: Step
    count: int
    nominal_s: float
    max_s: float
    body: _Sequence | None = None  # a repeat's steps (one pass)
    extra_s: float = 0.0  # the most the steps may take beyond nominal_s
    unbounded: int = 0  # executed steps that wait with no bound (an operator's prompt)


def _sequence(steps: Sequence[Step], response_s: float) -> _Sequence:
    nodes = tuple(_node(step, response_s) for step in steps)
    nominal = [n.nominal_s for n in nodes]
    extra = [n.extra_s for n in nodes]
    unbounded = [n.unbounded for n in nodes]
    return _Sequence(
        nodes,
        tuple(accumulate(n.count for n in nodes)),
        _totals_after(nominal, 0.0),
        sum(n.count for n in nodes),
        sum(nominal),
        sum(n.max_s for n in nodes),
        _totals_after(extra, 0.0),
        _totals_after(unbounded, 0),
        sum(extra),
        sum(unbounded),
    )


_Number = TypeVar("_Number", int, float)


def _totals_after(values: list[_Number], zero: _Number) -> tuple[_Number, ...]:
    """For each position, the sum of the values after it."""
    return tuple(list(accumulate(reversed(values), initial=zero))[-2::-1]) if values else ()


def _node(step: Step, response_s: float) -> _Node:
    if step.is_container():
        body = _sequence(step.nested(), response_s)
        times = step.passes()
        # Counts are Python integers, exact however large; durations are floats, so an absurd
        # procedure's total is at worst infinity (which the validator refuses), never an error.
        per_pass = float(times)
        return _Node(
            step,
            times * body.count,
            per_pass * body.nominal_s,
            per_pass * body.max_s,
            body,
            per_pass * body.extra_s,
            times * body.unbounded,
        )
    # A step has no time of its own where its planned duration is None.
    nominal, maximum = step.planned_duration(response_s)
    extra = max(0.0, (maximum or 0.0) - (nominal or 0.0))
    return _Node(step, 1, nominal or 0.0, maximum or 0.0, None, extra, int(step.waits_unbounded))


class Remaining(NamedTuple):
    """What the executed steps after a position will take: their nominal seconds, the most they
    may add to it (steps that end on a condition, up to their timeouts), and whether any waits
    with no bound at all (an operator's prompt)."""

    nominal_s: float
    extra_s: float
    unbounded: bool


class Plan:
    """The executed steps of a list of steps, counted and timed without expanding any repeat.

    Positions are 0-based indices into the executed order (repeats unrolled), as if the
    steps had been listed one by one; building a plan and each query cost time in
    proportion to the steps as written (and their nesting), never to the executed count.
    """

    def __init__(self, steps: Sequence[Step], response_s: float) -> None:
        self._root = _sequence(steps, response_s)

    @property
    def count(self) -> int:
        """How many steps execute (repeats multiplied)."""
        return self._root.count

    @property
    def nominal_s(self) -> float:
        """The nominal seconds of every executed step (steps that end on a condition count 0)."""
        return self._root.nominal_s

    @property
    def max_s(self) -> float:
        """The longest the steps can take: every step's maximum duration, repeats multiplied."""
        return self._root.max_s

    def nominal_after(self, index: int) -> float:
        """The nominal seconds of the executed steps after position ``index`` (all of them if < 0)."""
        return self.after(index).nominal_s

    def after(self, index: int) -> Remaining:
        """What the executed steps after position ``index`` (all of them if < 0) will take."""
        root = self._root
        if index < 0:
            return Remaining(root.nominal_s, root.extra_s, root.unbounded > 0)
        nominal, extra, unbounded = 0.0, 0.0, 0
        sequence: _Sequence | None = root
        while sequence is not None and index < sequence.count:
            i = bisect_right(sequence.ends, index)
            node = sequence.nodes[i]
            nominal += sequence.nominal_after[i]
            extra += sequence.extra_after[i]
            unbounded += sequence.unbounded_after[i]
            index -= sequence.ends[i - 1] if i else 0
            sequence = node.body
            if sequence is not None:  # inside a repeat: the passes after this one are still to come
                passes_done, index = divmod(index, sequence.count)
                later = node.count // sequence.count - 1 - passes_done
                nominal += later * sequence.nominal_s
                extra += later * sequence.extra_s
                unbounded += later * sequence.unbounded
        return Remaining(nominal, extra, unbounded > 0)
