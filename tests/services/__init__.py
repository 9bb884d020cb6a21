"""Throwaway services for the tests: a PostgreSQL server and a dask.distributed cluster.

``python -m tests.services -- COMMAND...`` (:mod:`tests.services.__main__`) starts one of each,
runs COMMAND with their addresses in :data:`POSTGRES_ENV` and :data:`SCHEDULER_ENV`, and stops
both when it ends; CI runs the suite so. The fixtures (``pg_server`` in tests/store,
``dask_scheduler`` in tests/evaluation) use those services when the variables are set, and start
their own with the same context managers otherwise (``pytest tests/store`` alone).
"""

from __future__ import annotations

from tests.services.cluster import dask_cluster
from tests.services.common import ServiceError
from tests.services.postgres import postgres_server

# A libpq URL of the server's ``postgres`` database, as its superuser ``postgres`` (trust auth).
POSTGRES_ENV = "LEAKRIG_TEST_POSTGRES"
# tcp://127.0.0.1:PORT of a scheduler with two single-threaded workers joined.
SCHEDULER_ENV = "LEAKRIG_TEST_SCHEDULER"

__all__ = ["POSTGRES_ENV", "SCHEDULER_ENV", "ServiceError", "dask_cluster", "postgres_server"]
