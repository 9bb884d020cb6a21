"""Leak-rate analysis: the Python face of the compiled core.

Fits, intervals, settling detection, detectability and verdicts; SI floats in and out
(``rig.units`` converts at the edges).
"""

from rig.analysis.decay import DecayFit, fit_decay
from rig.analysis.detectability import (
    Detectability,
    minimum_detectable_leak,
    thermal_apparent_leak_pa_m3_s,
    thermal_pressure_change_pa,
)
from rig.analysis.exponential import ExponentialFit, fit_exponential
from rig.analysis.linefit import InsufficientDataError, LineFit
from rig.analysis.settling import Settling, detect_settling, sliding_slopes
from rig.analysis.streaming import LiveLeakRate
from rig.analysis.verdict import Decision, Verdict, decide

__all__ = [
    "DecayFit",
    "Decision",
    "Detectability",
    "ExponentialFit",
    "InsufficientDataError",
    "LineFit",
    "LiveLeakRate",
    "Settling",
    "Verdict",
    "decide",
    "detect_settling",
    "fit_decay",
    "fit_exponential",
    "minimum_detectable_leak",
    "sliding_slopes",
    "thermal_apparent_leak_pa_m3_s",
    "thermal_pressure_change_pa",
]
