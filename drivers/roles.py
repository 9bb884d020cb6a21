"""What the engine needs of an instrument, by role: the protocols a driver implements.

A bench names models; a model's declaration (:mod:`drivers.models`) says which role its
driver plays (its ``kind``), and the rig talks to it only through that role's protocol:

* :class:`PressureGauge`, a gauge controller: pressures in Pa, one channel or all at once;
* :class:`RelayBank`, relays that drive valves, each actuation confirmed by readback, with
  :class:`Voltmeter` inputs that read a valve's limit switches (its position feedback) and
  :class:`Thermometer` inputs (a DAQ is all three);
* :class:`FlowMeter` / :class:`FlowController`, a mass-flow instrument: amount of gas per
  second in mol/s (the SI form of a "standard" volumetric flow), and for a controller the
  pressure it holds by adjusting its flow.

The protocols are structural (:class:`typing.Protocol`): a third-party driver satisfies one
by having its methods, with no base class of ours required beyond :class:`Instrument`'s
conveniences. :func:`missing_methods` is what the conformance kit (:mod:`rig.testing`) and
``rig plugins`` use to say which methods a driver lacks for the role its model declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from drivers.readings import FlowReading, PressureReading

__all__ = [
    "ROLE_PROTOCOLS",
    "Daq",
    "FlowController",
    "FlowMeter",
    "Instrument",
    "PressureGauge",
    "RelayBank",
    "Thermometer",
    "Voltmeter",
    "missing_methods",
    "role_problem",
]


class NamedUnit(Protocol):
    """A controller's own pressure unit as its driver reports it (an enum member)."""

    @property
    def name(self) -> str:
        """The unit's name (``MBAR``, ``TORR``, ``PASCAL`` ...)."""
        ...


@runtime_checkable
class Instrument(Protocol):
    """Every instrument: it says who it is and can be closed."""

    def identity(self) -> str:
        """The instrument's own identification string (model, serial, firmware)."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


@runtime_checkable
class PressureGauge(Instrument, Protocol):
    """A gauge controller: numbered channels (from 1) read as pressures in Pa."""

    def read(self, channel: int) -> PressureReading:
        """One channel now: a pressure in Pa, or the state that stands for one (under range ...)."""
        ...

    def read_all(self) -> list[PressureReading]:
        """Every channel now, in channel order (one transaction where the protocol allows)."""
        ...

    def unit(self) -> NamedUnit:
        """The unit the controller reports in (readings are converted to Pa whatever it is)."""
        ...


@runtime_checkable
class Thermometer(Instrument, Protocol):
    """Temperature inputs (thermocouples), read in kelvin."""

    def temperature_k(self, channel: int) -> float:
        """One input's temperature in K."""
        ...

    def temperatures_k(self, channels: Iterable[int]) -> dict[int, float]:
        """Several inputs at once, in K, by channel."""
        ...


@runtime_checkable
class Voltmeter(Instrument, Protocol):
    """DC voltage inputs: analog transducers and valve limit switches."""

    def volts(self, channel: int) -> float:
        """One input's DC voltage in V."""
        ...

    def volts_many(self, channels: Iterable[int]) -> dict[int, float]:
        """Several inputs in one scan, in V, by channel."""
        ...


@runtime_checkable
class RelayBank(Instrument, Protocol):
    """Relays that drive valves; every move is sent once and confirmed by reading it back."""

    def close_relays(self, channels: Iterable[int]) -> None:
        """Energise ``channels`` (confirmed by readback, else ActuationNotConfirmedError)."""
        ...

    def open_relays(self, channels: Iterable[int]) -> None:
        """De-energise ``channels`` (confirmed by readback)."""
        ...

    def relays_closed(self, channels: Iterable[int]) -> dict[int, bool]:
        """Whether each relay of ``channels`` is energised, as the instrument reads it back."""
        ...


@runtime_checkable
class FlowMeter(Instrument, Protocol):
    """A mass-flow meter: the amount of gas through it per second, in mol/s."""

    def read_flow(self, channel: int) -> FlowReading:
        """The flow now (with the line pressure and gas temperature the meter sees)."""
        ...


@runtime_checkable
class FlowController(FlowMeter, Protocol):
    """A mass-flow controller that can hold a pressure downstream by adjusting its flow."""

    def hold_pressure(self, channel: int, pressure_pa: float) -> None:
        """Control on pressure and hold ``pressure_pa`` (confirmed by reading the setpoint back)."""
        ...

    def stop_flow(self, channel: int) -> None:
        """Close the control valve: a zero flow setpoint (confirmed by readback)."""
        ...


@runtime_checkable
class Daq(RelayBank, Thermometer, Voltmeter, Protocol):
    """A data-acquisition unit: relays for valves, thermocouple and voltage inputs (a DAQ970A)."""


#: The protocols each model kind's driver implements.
ROLE_PROTOCOLS: dict[str, tuple[type, ...]] = {
    "gauge": (PressureGauge,),
    "daq": (Daq,),
    "flow_meter": (FlowMeter,),
    "flow_controller": (FlowController,),
}


def missing_methods(cls: type, kind: str) -> list[str]:
    """The methods a driver class lacks for the role(s) of a model of ``kind`` (empty: it has them)."""
    missing: list[str] = []
    for role in ROLE_PROTOCOLS[kind]:
        for name in sorted(_protocol_members(role)):
            if not callable(getattr(cls, name, None)) and name not in missing:
                missing.append(name)
    return missing


def role_problem(cls: type, model: str, kind: str) -> str | None:
    """Why a driver class cannot serve a model of ``kind`` (None: it has every method of its role)."""
    missing = missing_methods(cls, kind)
    if not missing:
        return None
    return f"the {model} driver {cls.__qualname__} lacks {', '.join(missing)} (a {kind} has them)"


def _protocol_members(role: type) -> set[str]:
    out: set[str] = set()
    for base in role.__mro__:
        if base in (Protocol, object) or not getattr(base, "_is_protocol", False):
            continue
        out |= {n for n in vars(base) if not n.startswith("_")}
    return out
