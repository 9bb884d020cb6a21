"""The bench as a graph: places (volumes and the outside) joined by the valves that are open."""

from __future__ import annotations

from rig.bench import BenchSpec


def joined(bench: BenchSpec, open_valves: dict[str, bool], place: str) -> frozenset[str]:
    """Every place that shares its gas with ``place`` through open valves."""
    seen, todo = {place}, [place]
    while todo:
        here = todo.pop()
        for name, valve in bench.valves.items():
            if open_valves.get(name) and here in valve.between:
                for there in valve.between:
                    if there not in seen:
                        seen.add(there)
                        todo.append(there)
    return frozenset(seen)


def segments(bench: BenchSpec, open_valves: dict[str, bool]) -> list[tuple[str, ...]]:
    """The bench's volumes grouped by the gas they share, each group in bench order.

    A group open to a place that is not a bench volume (the atmosphere, a pump) is still a
    group: what it holds is the caller's to judge.
    """
    groups: list[tuple[str, ...]] = []
    placed: set[str] = set()
    for volume in bench.volumes:
        if volume in placed:
            continue
        places = joined(bench, open_valves, volume)
        group = tuple(v for v in bench.volumes if v in places)
        placed.update(group)
        groups.append(group)
    return groups
