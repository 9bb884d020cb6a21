"""The conformance kit: pytest helpers a driver author runs against their driver and its simulator.

* :func:`expected_protocol` / :class:`ScriptedTransport`: the manual's exchanges, byte for byte;
* :class:`SwitchableFaults`: timeouts, garbled replies, dropped connections, latency on a
  simulated server, switched by the test;
* role suites to subclass in a test module (:class:`GaugeConformance`,
  :class:`RelayBankConformance`, :class:`ThermometerConformance`, :class:`VoltmeterConformance`,
  :class:`FlowMeterConformance`, :class:`FlowControllerConformance`), each on
  :class:`DriverConformance`: the role protocol, the conventions, SI units, readback of
  actuations, and behaviour under faults, against the driver's simulated server over pyvisa-py.

It imports pytest: it is for test code, and nothing in ``rig`` or ``drivers`` imports it.
"""

from __future__ import annotations

from rig.testing.conformance import DriverConformance, timeout_bound_s, wait_until
from rig.testing.conventions import (
    floats_without_units,
    open_problems,
    public_members,
    role_problems,
    undocumented_or_untyped,
)
from rig.testing.daq import RelayBankConformance, StickyDaq, ThermometerConformance, VoltmeterConformance
from rig.testing.faults import SwitchableFaults
from rig.testing.flow import FlowControllerConformance, FlowMeterConformance
from rig.testing.gauges import GaugeConformance, display_rel
from rig.testing.scripted import Exchange, Reply, ScriptedTransport, expected_protocol

__all__ = [
    "DriverConformance",
    "Exchange",
    "FlowControllerConformance",
    "FlowMeterConformance",
    "GaugeConformance",
    "RelayBankConformance",
    "Reply",
    "ScriptedTransport",
    "StickyDaq",
    "SwitchableFaults",
    "ThermometerConformance",
    "VoltmeterConformance",
    "display_rel",
    "expected_protocol",
    "floats_without_units",
    "open_problems",
    "public_members",
    "role_problems",
    "timeout_bound_s",
    "undocumented_or_untyped",
    "wait_until",
]
