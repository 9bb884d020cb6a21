"""Suite-wide settings: every run any test records is signed with a key of the test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rig.record.integrity import KEY_DIR_ENV
from tests.listening import Listener


@pytest.fixture(autouse=True, scope="session")
def signing_keys_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep signing keys out of the user's configuration (subprocesses inherit the variable)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(KEY_DIR_ENV, str(tmp_path_factory.mktemp("keys")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A socket every refused input's bench names as its instruments: it must accept nothing."""
    server = Listener()
    try:
        yield server
    finally:
        server.close()
