"""The DG-2 as Leakrig sees it: what the ``leakrig.instruments`` entry point names."""

from __future__ import annotations

from drivers.models import InstrumentModel

MODELS = (
    InstrumentModel(
        "DG-2",
        "gauge",
        driver="leakrig_demo.gauge:Dg2",
        simulator="leakrig_demo.server:serve",
        gauge_channels=2,
        # It prints 6 significant digits, and its capacitance heads are good to 0.1 % of reading.
        display_digits=6,
        accuracy_rel=0.001,
        simulated_accuracy_rel=0.001,
    ),
)
