"""What every driver must show against its simulated server: :class:`DriverConformance`.

A driver author subclasses a role suite (:mod:`rig.testing.gauges`, :mod:`rig.testing.daq`,
:mod:`rig.testing.flow`), all built on this one, in a test module of their own, names the model
(or gives its declaration) and builds the simulated server (:meth:`DriverConformance.make_server`);
pytest then runs every ``test_`` method here and in the role suite against the driver.

What is checked here for every driver, whatever its role: the class has the methods of its
model kind's role protocol (:func:`drivers.roles.missing_methods`), keeps the conventions
(:mod:`rig.testing.conventions`), opens from a resource name with a ``timeout_s`` and says who it
is; and on the wire, through pyvisa-py to the server on loopback: a silent instrument raises
:class:`~drivers.errors.InstrumentTimeoutError` within the bound its
:class:`~drivers.base.RetryPolicy` sets, one lost reply is retried invisibly, garbled bytes give
a :class:`~drivers.errors.ProtocolError` or the right value (never a wrong one), a dropped
connection is reconnected, a slow (not silent) instrument is waited for, and one that is not
there at all is a :class:`~drivers.errors.DriverError` within the same bound. After every fault the
next call succeeds. "Right" is the role suite's :meth:`~DriverConformance.check_probe`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from drivers.base import Instrument, RetryPolicy
from drivers.errors import DriverError, InstrumentTimeoutError, ProtocolError
from drivers.models import MODELS, InstrumentModel, import_named
from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.testing.conventions import (
    floats_without_units,
    open_problems,
    role_problems,
    undocumented_or_untyped,
)
from rig.testing.faults import SwitchableFaults

__all__ = ["GARBLED_POSITIONS", "DriverConformance", "timeout_bound_s", "wait_until"]

# How long a fault that acts between requests (a dropped connection) may take to show on the
# server: it polls every 50 ms, so this is only there to end a test whose server never obeys.
CONDITION_TIMEOUT_S = 5.0
# A probe's exchange is a few replies long (a TPG's <ACK> and data line, an MKS's unit and reading):
# garbling each of the first few in turn reaches every parser on its way.
GARBLED_POSITIONS = 4


def timeout_bound_s(policy: RetryPolicy, timeout_s: float) -> float:
    """The longest a call may take against a silent instrument: every attempt's timeout, plus the waits.

    Recovering (reconnecting, resynchronising) is taken out of the waits between attempts by
    :class:`drivers.base.Instrument`, never added to them.
    """
    return policy.attempts * timeout_s + sum(policy.delays())


def wait_until(condition: Callable[[], bool], timeout_s: float = CONDITION_TIMEOUT_S) -> None:
    """Poll ``condition`` (a state of the server, not a timing) until it holds, at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"condition never held within {timeout_s} s"
        time.sleep(0.01)


class DriverConformance:
    """Base of the role suites: the checks every driver passes, whatever its role.

    Hooks: :attr:`model` (or :meth:`declaration` for a model not registered), :meth:`make_server`,
    and, from the role suite, :meth:`probe` and :meth:`check_probe`. The fixtures ``faults``,
    ``server`` and ``driver`` give the test methods a :class:`SwitchableFaults`, the started server
    and the driver opened on it with :attr:`timeout_s`.
    """

    #: The model name the bench files use (``"TPG362"``): its declaration names the driver and kind.
    model: ClassVar[str] = ""
    #: How the driver reaches the server: ``"tcpip"`` (a raw socket) or ``"asrl"`` (serial over TCP).
    resource_kind: ClassVar[str] = "tcpip"
    #: The driver's reply timeout in these tests: short, since faults wait it out.
    timeout_s: ClassVar[float] = 0.3
    #: Scheduling slack of a loaded machine on top of the driver's bound (time it may not spend).
    jitter_s: ClassVar[float] = 0.05
    #: More keyword arguments of the driver's ``open`` (an RS-485 ``address`` ...).
    open_options: ClassVar[dict[str, Any]] = {}

    # --- hooks -----------------------------------------------------------------------------------

    def declaration(self) -> InstrumentModel:
        """The model under test: :attr:`model`'s registered declaration unless overridden."""
        assert self.model, f"{type(self).__name__}: set model = '<model name>' (or override declaration())"
        assert self.model in MODELS, f"model {self.model!r} is not registered (known: {sorted(MODELS)})"
        return MODELS[self.model]

    def driver_class(self) -> type[Instrument]:
        """The driver class the declaration names."""
        cls: type[Instrument] = import_named(self.declaration().driver)
        return cls

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        """The simulated server (not started) over a backend the suite can set, asking ``faults``."""
        raise NotImplementedError(f"{type(self).__name__} must define make_server(self, faults)")

    def prepare(self) -> None:
        """Put the truth the role suite expects into the backend (called before the server starts)."""

    def probe(self, driver: Any) -> object:
        """One idempotent call of the role (a reading) whose result :meth:`check_probe` can judge."""
        raise NotImplementedError(f"{type(self).__name__}: the role suite defines probe()")

    def check_probe(self, driver: Any, result: object) -> None:
        """Fail (AssertionError) unless ``result`` of :meth:`probe` agrees with the backend's truth."""
        raise NotImplementedError(f"{type(self).__name__}: the role suite defines check_probe()")

    # --- the server and the driver ------------------------------------------------------------------

    @contextlib.contextmanager
    def serving(self, faults: ServerFaults) -> Iterator[InstrumentServer]:
        """The server of :meth:`make_server`, prepared and started; stopped at the end."""
        server = self.make_server(faults)
        self.prepare()
        with server:
            yield server

    def resource(self, server: InstrumentServer) -> str:
        """The VISA resource name of ``server`` for :attr:`resource_kind`."""
        kinds = {"tcpip": server.resource, "asrl": server.serial_resource}
        return kinds[self.resource_kind]

    @contextlib.contextmanager
    def opened(self, server: InstrumentServer) -> Iterator[Any]:
        """The driver opened on ``server`` with :attr:`timeout_s`; closed at the end."""
        cls: Any = self.driver_class()
        with cls.open(self.resource(server), timeout_s=self.timeout_s, **self.open_options) as driver:
            yield driver

    @pytest.fixture
    def faults(self) -> SwitchableFaults:
        """Faults the test switches on the server (none at first)."""
        return SwitchableFaults()

    @pytest.fixture
    def server(self, faults: SwitchableFaults) -> Iterator[InstrumentServer]:
        """The started simulated server."""
        with self.serving(faults) as server:
            yield server

    @pytest.fixture
    def driver(self, server: InstrumentServer) -> Iterator[Any]:
        """The driver under test, opened on the server."""
        with self.opened(server) as driver:
            yield driver

    # --- the class -----------------------------------------------------------------------------------

    def test_the_driver_plays_its_model_kinds_role(self) -> None:
        """It has every method of its model kind's role protocol(s)."""
        problems = role_problems(self.driver_class(), self.declaration().kind)
        assert not problems, "\n".join(problems)

    def test_public_methods_are_documented_typed_and_in_si_units(self) -> None:
        """Docstrings, annotations, and a unit in the name of whatever returns a bare float."""
        cls = self.driver_class()
        problems = [
            problem
            for klass in cls.__mro__
            if klass not in (Instrument, object) and issubclass(klass, Instrument)
            for problem in undocumented_or_untyped(klass) + floats_without_units(klass)
        ]
        assert not problems, "\n".join(problems)

    def test_it_opens_from_a_resource_name_with_a_timeout(self) -> None:
        """An ``open(resource_name, *, timeout_s, ...)`` classmethod."""
        problems = open_problems(self.driver_class())
        assert not problems, "\n".join(problems)

    # --- the wire ---------------------------------------------------------------------------------------

    def test_it_says_who_it_is(self, driver: Any) -> None:
        """``identity()`` is a non-empty string, and the role's reading is right."""
        identity = driver.identity()
        assert isinstance(identity, str) and identity.strip(), f"identity() gave {identity!r}"
        self.check_probe(driver, self.probe(driver))

    def test_a_silent_instrument_times_out_within_the_retry_bound(
        self, driver: Any, faults: SwitchableFaults
    ) -> None:
        """InstrumentTimeoutError within attempts × timeout + backoff; the next call after it succeeds."""
        self.check_probe(driver, self.probe(driver))  # connected, caches filled
        bound_s = timeout_bound_s(driver.retry, self.timeout_s) + self.jitter_s
        retries = driver.stats.retries
        faults.set("timeout")
        started = time.monotonic()
        with pytest.raises(InstrumentTimeoutError):
            self.probe(driver)
        elapsed_s = time.monotonic() - started
        faults.clear("timeout")
        assert elapsed_s <= bound_s, f"a silent instrument took {elapsed_s:.3f} s, bound {bound_s:.3f} s"
        tried = driver.stats.retries - retries
        allowed = driver.retry.attempts - 1
        assert tried == allowed, f"{tried} retries against a silent instrument, the policy says {allowed}"
        self.check_probe(driver, self.probe(driver))

    def test_one_lost_reply_is_retried_invisibly(self, driver: Any, faults: SwitchableFaults) -> None:
        """A request the instrument never answers once costs a retry, not a failure."""
        self.check_probe(driver, self.probe(driver))
        retries = driver.stats.retries
        faults.once("timeout")
        self.check_probe(driver, self.probe(driver))
        assert driver.stats.retries > retries, "the lost reply was not retried (stats.retries)"

    def test_garbled_replies_never_give_a_wrong_value(self, driver: Any, faults: SwitchableFaults) -> None:
        """One garbled reply anywhere: ProtocolError or the right value; garbled always: ProtocolError."""
        self.check_probe(driver, self.probe(driver))
        for after in range(GARBLED_POSITIONS):
            faults.once("garbled", after=after)
            with contextlib.suppress(ProtocolError):
                self.check_probe(driver, self.probe(driver))
            faults.clear("garbled")
        faults.set("garbled")
        with pytest.raises(ProtocolError):
            result = self.probe(driver)
            self.check_probe(driver, result)  # a right value read from garbage is no better
        faults.clear("garbled")
        self.check_probe(driver, self.probe(driver))

    def test_a_dropped_connection_is_reconnected(
        self, driver: Any, server: InstrumentServer, faults: SwitchableFaults
    ) -> None:
        """The server hangs up; the next call reconnects (stats.reconnects grows) and reads right."""
        self.check_probe(driver, self.probe(driver))
        reconnects = driver.stats.reconnects
        faults.set("disconnect")
        wait_until(lambda: server.active_connections == 0)
        faults.clear("disconnect")
        self.check_probe(driver, self.probe(driver))
        assert driver.stats.reconnects > reconnects, "no reconnection counted (stats.reconnects)"

    def test_an_absent_instrument_is_a_driver_error(self, server: InstrumentServer) -> None:
        """Nothing listening: opening or the first call raises a DriverError within the bound, no value."""
        server.stop()  # its port is free now: nothing answers there
        policy = RetryPolicy()  # the driver's own once it is open
        started = time.monotonic()
        with pytest.raises(DriverError), self.opened(server) as driver:
            policy = driver.retry
            self.probe(driver)
        elapsed_s = time.monotonic() - started
        bound_s = timeout_bound_s(policy, self.timeout_s) + self.jitter_s
        assert elapsed_s <= bound_s, f"an absent instrument took {elapsed_s:.3f} s, bound {bound_s:.3f} s"

    def test_a_slow_instrument_is_waited_for(self, driver: Any, faults: SwitchableFaults) -> None:
        """Replies late by a quarter of the timeout still give the right value, without a retry."""
        self.check_probe(driver, self.probe(driver))
        retries = driver.stats.retries
        faults.set("latency", self.timeout_s / 4)
        self.check_probe(driver, self.probe(driver))
        faults.clear("latency")
        assert driver.stats.retries == retries, "a reply within the timeout was retried"
