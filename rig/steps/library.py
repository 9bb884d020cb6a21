"""Our own step kinds, in the order README.md lists them.

:mod:`rig.steps` registers each with :func:`rig.steps.register_step`, as a plugin's kinds
would be (issue 16 will read this list, and plugins', from the ``leakrig.steps`` entry points).
"""

from __future__ import annotations

from rig.steps.base import Step
from rig.steps.compare import Compare
from rig.steps.compartment_isolation import CompartmentIsolation
from rig.steps.fill import Fill
from rig.steps.isolate import Isolate
from rig.steps.master_differential import MasterDifferential
from rig.steps.measure_decay import MeasureDecay
from rig.steps.measure_differential import MeasureDifferential
from rig.steps.measure_flow import MeasureFlow
from rig.steps.prompt import Prompt
from rig.steps.pump_down import PumpDown
from rig.steps.reference_leak_check import ReferenceLeakCheck
from rig.steps.repeat import Repeat
from rig.steps.set_valves import SetValves
from rig.steps.stabilise import Stabilise
from rig.steps.vent import Vent
from rig.steps.verification_leak import VerificationLeak
from rig.steps.wait import Wait
from rig.steps.zero_check import ZeroCheck

BUILTIN_STEPS: tuple[type[Step], ...] = (
    SetValves,
    PumpDown,
    Fill,
    Isolate,
    Stabilise,
    MeasureDecay,
    MeasureDifferential,
    MasterDifferential,
    Vent,
    Wait,
    Repeat,
    ReferenceLeakCheck,
    VerificationLeak,
    CompartmentIsolation,
    Compare,
    Prompt,
    ZeroCheck,
    MeasureFlow,
)
