"""A bench's differential pressure channels: a head between a test volume and its reference.

    dp_article: {instrument: daq, channel: 115, measures: differential_pressure,
                 volumes: [article, reference], full_scale: 1000 Pa}

reads p(article) − p(reference), signed, in Pa: the ±10 V output of a differential
capacitance manometer (:data:`drivers.models.DIFFERENTIAL_TRANSDUCER`) on a DAQ input, scaled
by the head's declared full scale (:class:`drivers.differential.DifferentialTransducer`). A
small full scale (an ATEQ-like 500-5000 Pa head) is the point: its zero drift and its
resolution are fractions of that, not of the static pressure. Each problem is located like
the rest of the bench file's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drivers.differential import DifferentialTransducer
from drivers.models import DIFFERENTIAL_TRANSDUCER
from drivers.readings import PressureReading
from rig.located_yaml import Doc

if TYPE_CHECKING:
    from rig.bench import BenchSpec, ChannelSpec, VolumeSpec

DIFFERENTIAL = "differential_pressure"
P = tuple[Any, ...]


def differential_part(
    doc: Doc, p: P, measures: str, volumes: dict[str, VolumeSpec]
) -> tuple[tuple[str, str] | None, float | None]:
    """(the two volumes, the full scale in Pa) of the channel at ``p``; (None, None) if not differential."""
    if measures != DIFFERENTIAL:
        for key in ("volumes", "full_scale"):
            if doc.has((*p, key)):
                raise doc.error(
                    (*p, key), f"only a {DIFFERENTIAL} channel has {key}: (this one measures {measures})"
                )
        return None, None
    if doc.get((*p, "volume")) is not None:
        raise doc.error(
            (*p, "volume"),
            f"a {DIFFERENTIAL} channel reads two volumes: name them as `volumes: [test, reference]`",
        )
    if doc.get((*p, "volumes")) is None:
        raise doc.error(p, f"a {DIFFERENTIAL} channel names its two sides: `volumes: [test, reference]`")
    ends = doc.sequence((*p, "volumes"))
    if len(ends) != 2:
        raise doc.error((*p, "volumes"), "a differential head sits between exactly two volumes")
    pair = (doc.text((*p, "volumes", 0)), doc.text((*p, "volumes", 1)))
    for i, name in enumerate(pair):
        if name not in volumes:
            known = ", ".join(sorted(volumes)) or "none"
            raise doc.error((*p, "volumes", i), f"unknown volume {name!r} (this bench has: {known})")
    if pair[0] == pair[1]:
        raise doc.error((*p, "volumes"), "a differential head between a volume and itself reads nothing")
    if doc.get((*p, "full_scale")) is None:
        why = f"a {DIFFERENTIAL} channel states its head's full scale (`full_scale: 1000 Pa`)"
        raise doc.error(p, f"{why}: it scales the volts")
    full_scale = doc.quantity((*p, "full_scale"), "pressure", positive=True)
    return pair, full_scale


def transducer(spec: ChannelSpec) -> DifferentialTransducer:
    """The head behind the differential channel ``spec`` (ValueError if it is not one)."""
    if spec.measures != DIFFERENTIAL or spec.full_scale_pa is None:
        raise ValueError(f"channel {spec.name!r} is not a {DIFFERENTIAL} channel")
    return DifferentialTransducer(spec.full_scale_pa, spec.channel)


def differential_reading(spec: ChannelSpec, volts: float) -> PressureReading:
    """What the output ``volts`` of ``spec``'s head stands for."""
    return transducer(spec).reading(volts)


def default_resolution_pa(spec: ChannelSpec) -> float:
    """One step of a differential head the bench says nothing more of: a fraction of its full scale."""
    return 0.0 if spec.full_scale_pa is None else DIFFERENTIAL_TRANSDUCER.resolution_fs * spec.full_scale_pa


def differential_channels(bench: BenchSpec) -> dict[str, ChannelSpec]:
    """The bench's differential channels, by name."""
    return {name: spec for name, spec in bench.channels.items() if spec.measures == DIFFERENTIAL}
