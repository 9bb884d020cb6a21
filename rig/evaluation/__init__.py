"""Method evaluation: a procedure run in simulation over a grid of true leaks and seeds (``rig evaluate``)."""
