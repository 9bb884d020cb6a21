"""The scripted transport now lives in the conformance kit (:mod:`rig.testing.scripted`)."""

from rig.testing.scripted import Reply, ScriptedTransport, expected_protocol

__all__ = ["Reply", "ScriptedTransport", "expected_protocol"]
