"""Suite-wide settings: every run any test records is signed with a key of the test session.

That key is the rig's own key for every ``rig`` the tests start, so its records verify; the
trust store holds no other key (an empty directory of the session), never the user's own.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from rig.config import CONFIG_HOME_ENV, DATA_DIR_ENV
from rig.record.integrity import KEY_DIR_ENV
from rig.record.trust import TRUSTED_KEYS_ENV
from tests.listening import Listener

# Hypothesis's default deadline (200 ms an example) is a timing assertion: on a loaded machine a
# correct example that pint or the simulator took 250 ms over failed the suite. Examples that hang
# are still caught by the tests' own bounds and CI's time budget.
settings.register_profile("leakrig", deadline=None)
settings.load_profile("leakrig")


@pytest.fixture(autouse=True, scope="session")
def signing_keys_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep signing and trusted keys out of the user's configuration (subprocesses inherit both)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(KEY_DIR_ENV, str(tmp_path_factory.mktemp("keys")))
    mp.setenv(TRUSTED_KEYS_ENV, str(tmp_path_factory.mktemp("trusted_keys")))
    yield
    mp.undo()


@pytest.fixture(autouse=True, scope="session")
def no_user_configuration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the user's own config file and LEAKRIG_DATA_DIR out of every test (subprocesses too)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(CONFIG_HOME_ENV, str(tmp_path_factory.mktemp("config_home")))
    mp.delenv(DATA_DIR_ENV, raising=False)
    yield
    mp.undo()


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key directory of this test's own (``$LEAKRIG_KEY_DIR``), not made yet."""
    keys = tmp_path / "keys"
    monkeypatch.setenv(KEY_DIR_ENV, str(keys))
    return keys


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A socket every refused input's bench names as its instruments: it must accept nothing."""
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def _ignored_signals() -> set[int]:
    """The signals this process ignores, as the kernel has it (C code may ignore one behind Python)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            mask = int(line.split()[1], 16)
            return {sig for sig in (signal.SIGINT, signal.SIGQUIT) if mask >> (sig - 1) & 1}
    return set()


_last_test = ["(none)"]


@pytest.fixture(autouse=True)
def interrupts_reach_the_commands_we_start(request: pytest.FixtureRequest) -> Iterator[None]:
    """A command a test starts must take Ctrl-C as a user's does.

    A child inherits the signals its parent ignores, and something in a test process (C code in a
    background thread, not yet found) was seen to leave SIGINT and SIGQUIT ignored, so that a
    `rig` started later never saw its Ctrl-C. The dispositions are put back before each test, and
    the test that ran before is named, to find the culprit.
    """
    ignored = _ignored_signals() if Path("/proc/self/status").exists() else set()
    if ignored:
        if signal.SIGINT in ignored:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if signal.SIGQUIT in ignored:
            signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        names = ", ".join(signal.Signals(s).name for s in sorted(ignored))
        warnings.warn(f"{names} found ignored after {_last_test[0]}", stacklevel=1)
    yield
    _last_test[0] = request.node.nodeid
