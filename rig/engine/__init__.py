"""The run engine: executes a validated procedure on a bench, sampling, recording, keeping it safe."""
