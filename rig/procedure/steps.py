"""The step library: each step kind and the fields it takes, as data the validator walks.

A field's type is one of: ``pressure``, ``time``, ``volume``, ``temperature`` (quantities
with units), ``leak_rate`` (Pa·m³/s, sccm, mbar·L/s, lb/day …), ``text``, ``count`` (a
whole number ≥ 1), ``volume_ref`` / ``channel_ref`` / ``valve_ref`` (names the bench must
have), ``valve_list`` (valve names), ``valve_states`` (valve name → open/closed),
``steps`` (a nested list of steps), ``fraction`` (a number in (0, 1]), ``answer``
(yes/no, quoted or bare: YAML reads a bare yes/no as a boolean, taken as the answer it
spells) or ``choice:a|b``. A trailing ``?`` marks an optional field.
"""

from __future__ import annotations

STEP_KINDS: dict[str, dict[str, str]] = {
    # Move valves to the given states (confirmed by readback).
    "set_valves": {"valves": "valve_states"},
    # Pump a volume down below a pressure, failing after the timeout.
    "pump_down": {"volume": "volume_ref", "below": "pressure", "timeout": "time", "channel": "channel_ref?"},
    # Fill (pressurise) a volume to a target within a tolerance.
    "fill": {
        "volume": "volume_ref",
        "to": "pressure",
        "tolerance": "pressure",
        "timeout": "time",
        "channel": "channel_ref?",
        "through": "valve_ref?",
    },
    # Close every valve that touches the volume.
    "isolate": {"volume": "volume_ref"},
    # Wait until the transient has died out (leak-physics §4.3), or a maximum time.
    "stabilise": {
        "channel": "channel_ref",
        "reject_limit": "leak_rate",
        "window": "time?",
        "max": "time",
        "on_timeout": "choice:fail|continue?",
        "temperature": "channel_ref?",
    },
    # Hold, sample, fit the decay (or rise) and produce a measurement against a limit.
    "measure_decay": {
        "name": "text",
        "channel": "channel_ref",
        "volume": "volume_ref",
        "duration": "time",
        "limit": "leak_rate?",
        "temperature": "channel_ref?",
        "direction": "choice:decay|rise?",
    },
    # Vent a volume to the atmosphere.
    "vent": {"volume": "volume_ref", "through": "valve_ref?", "timeout": "time?"},
    # Do nothing for a while (still sampling and checking interlocks).
    "wait": {"duration": "time"},
    # Run the nested steps a number of times.
    "repeat": {"times": "count", "steps": "steps"},
    # Measure the background with a calibrated leak's valve closed, then with it open, and
    # compare the difference with the leak's certificate (within a relative tolerance).
    "reference_leak_check": {
        "name": "text",
        "valve": "valve_ref",
        "channel": "channel_ref",
        "volume": "volume_ref",
        "duration": "time",
        "certified_rate": "leak_rate",
        "tolerance_relative": "fraction",
        "settle": "time?",
    },
    # Close hatches one after another, watch each segment, rank them and name the leaking one.
    "compartment_isolation": {
        "name": "text",
        "hatches": "valve_list",
        "watch": "time",
        "limit": "leak_rate?",
    },
    # Compare two measurements of this procedure (a repair's before and after): the reduction
    # factor before/after with its 95 % interval.
    "compare": {"name": "text", "before": "text", "after": "text"},
    # Ask the operator; answered automatically in simulation and with --yes. ``action`` names
    # what the operator does (a simulated bench can act it out, e.g. repair a seal).
    "prompt": {"message": "text", "expect": "answer?", "action": "text?"},
}
