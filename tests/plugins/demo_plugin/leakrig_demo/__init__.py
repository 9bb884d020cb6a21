"""A lab's plugin for Leakrig: the DG-2 gauge controller and the ``pressure_hold`` step kind."""
