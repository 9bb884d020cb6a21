"""Run one test method of a conformance suite by hand, with the fixtures pytest would give it.

A kit that cannot fail proves nothing: the tests of :mod:`rig.testing` run its suites on
deliberately broken drivers and expect the failure, with :func:`kit_failure`.
"""

from __future__ import annotations

import contextlib
import inspect

import pytest

from drivers.errors import DriverError
from rig.testing import DriverConformance, SwitchableFaults


def run_kit_test(suite: DriverConformance, name: str) -> None:
    """Run ``suite.<name>`` against a fresh server and driver (fixtures only where it takes them)."""
    method = getattr(suite, name)
    wanted = set(inspect.signature(method).parameters)
    if not wanted & {"driver", "server", "faults"}:
        method()
        return
    faults = SwitchableFaults()
    with suite.serving(faults) as server, contextlib.ExitStack() as stack:
        # Only when asked for: a one-client instrument (the TPG) has room for no other connection.
        driver = stack.enter_context(suite.opened(server)) if "driver" in wanted else None
        given = {"driver": driver, "server": server, "faults": faults}
        method(**{key: value for key, value in given.items() if key in wanted})


def kit_failure(suite: DriverConformance, name: str) -> str:
    """The message with which ``suite.<name>`` fails (the test fails if it passes)."""
    try:
        run_kit_test(suite, name)
    except (AssertionError, pytest.fail.Exception, DriverError) as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError(f"{type(suite).__name__}.{name} passed a broken driver")
