"""Simulation: the vacuum physics behind simulated instruments (gas-flow formulas so far)."""
