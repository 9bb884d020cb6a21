"""A real dask.distributed scheduler and two workers, each its own process, for the module's tests.

The cluster is the one ``python -m tests.services`` started (``$LEAKRIG_TEST_SCHEDULER``), shared
by every test process of the run; without it (``pytest tests/evaluation``) each module starts its
own the same way (:func:`tests.services.dask_cluster`: 127.0.0.1, a free port, two workers of one
thread each, no nanny) and stops it when the module ends.

A shared cluster is shared: tests submit work through clients of their own (``rig evaluate
--scheduler`` does; closing a client leaves the cluster alone) and their tasks may queue behind
another process's. A test must not restart, retire or shut down the workers or the scheduler, nor
count on being alone on them; one that needs a cluster of another shape starts its own
(:func:`tests.services.dask_cluster`, or a ``distributed.LocalCluster``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.services import SCHEDULER_ENV, ServiceError, dask_cluster
from tests.services.cluster import WORKERS

START_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address (tcp://127.0.0.1:PORT) of a scheduler with two single-threaded workers joined."""
    shared = os.environ.get(SCHEDULER_ENV)
    if shared:
        from distributed import Client

        # Both workers still there: one lost to an earlier test would halve every later one's pace.
        with Client(shared, timeout=START_TIMEOUT_S) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(WORKERS, timeout=START_TIMEOUT_S)
        yield shared
        return
    with contextlib.ExitStack() as stack:
        try:
            address = stack.enter_context(dask_cluster(tmp_path_factory.mktemp("dask")))
        except ServiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield address
