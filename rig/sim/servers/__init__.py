"""Simulated instruments: TCP servers that speak the real wire protocols (127.0.0.1 only)."""
