"""Leakrig: a hardware-in-the-loop leak-test rig controller.

Drives gauges, valves and thermometers through VISA, runs leak-test procedures,
computes leak rates with honest uncertainty in a compiled core, and certifies seal
repairs. See README.md for the quick start.
"""

__version__ = "0.1.0"
