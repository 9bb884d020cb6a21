"""The lab store's address and connection: every failure to reach it is one line (:class:`StoreError`).

The URL is a libpq connection string or URI (``postgresql://user@host:5432/leakrig``), given with
``--store`` or in ``$LEAKRIG_STORE``. Opening the store brings its schema up to this rig's version
(:func:`rig.store.schema.migrate`) and refuses a store that a newer rig has changed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import conninfo

from rig.errors import InputError

# psycopg logs a warning of its own when a batch it pipelines (executemany) is cut short by a
# server error; that error is what the command reports, as its one line, so the warning would be
# a second line saying the same.
logging.getLogger("psycopg").setLevel(logging.ERROR)

STORE_ENV = "LEAKRIG_STORE"
CONNECT_TIMEOUT_S = 10

__all__ = ["STORE_ENV", "StoreError", "open_store", "store_url"]


class StoreError(InputError):
    """The lab store cannot be reached or used: a bad URL, a server down or refusing, a newer schema.

    The message is one line; the command line prints it and exits with code 2.
    """


def store_url(given: str | None) -> str:
    """The store's URL: ``given`` (``--store``), else ``$LEAKRIG_STORE``; :class:`StoreError` if neither."""
    url = given or os.environ.get(STORE_ENV)
    if not url or not url.strip():
        raise StoreError(f"no lab store: give --store URL or set {STORE_ENV}")
    return url


def shown(url: str) -> str:
    """The store as messages name it: database, host and port, never a password."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(the URL given)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{parts.get('dbname') or '(default database)'} on {host}:{port}"


# Where a URL or a keyword/value string keeps its password: libpq quotes a malformed URL in its
# message (an unfinished IPv6 host, a bad %-escape in the password itself), secret and all.
_SECRETS = (
    re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*?:([^@/?#]+)@"),
    re.compile(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+)"),
)


def _masked(message: str, url: str) -> str:
    """``message`` with every password ``url`` holds replaced by ``***``."""
    for pattern in _SECRETS:
        for secret in pattern.findall(url):
            message = message.replace(secret, "***")
    return message


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def open_store(url: str, *, migrate: bool = True) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the store (autocommit: each change is an explicit transaction), closed at the end.

    Its schema is brought up to date first unless ``migrate`` is false. A URL that is not one, a
    server that does not answer, or any database error on the way raises :class:`StoreError`.
    """
    from rig.store.schema import ensure_current

    if not url.strip():
        # libpq reads an empty connection string as "every default" (the local socket, $PGHOST,
        # $PGDATABASE...): `--store "$LEAKRIG_STORE"` with the variable unset would open some other
        # database instead of saying there is no store.
        raise StoreError(f"no lab store: the URL given is empty (give --store URL or set {STORE_ENV})")
    where = shown(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise StoreError(f"lab store {where}: cannot connect: {_masked(_first_line(exc), url)}") from None
    try:
        with conn:
            if migrate:
                ensure_current(conn, where)
            yield conn
    except psycopg.Error as exc:
        raise StoreError(f"lab store {where}: {_first_line(exc)}") from None
