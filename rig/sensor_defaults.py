"""What a simulated sensor is when its bench file says nothing, for the simulator and the budget alike.

The simulator (:mod:`rig.sim`) builds its gauges with these values, and the procedure's Type-B
budget (:mod:`rig.procedure.loader`) must assume the same ones of a simulated bench; they live
below both so that neither imports the other.
"""

# A simulated gauge's relative accuracy when its sensor says none (a capacitance gauge's 0.25 %).
DEFAULT_ACCURACY_REL = 0.0025
