"""The lab store's schema: numbered migrations, applied in order, and the version they reached.

``schema_version`` holds one row per migration applied. Opening the store applies the ones it
lacks, all in one transaction under an advisory lock (two rigs opening a new store at once do not
both migrate it); a store whose version is newer than :data:`LATEST` was changed by a newer rig,
and is refused rather than misread. A migration is never edited once released: a change is a new
one appended to :data:`MIGRATIONS`.
"""

from __future__ import annotations

from typing import Any

import psycopg

from rig.store.connection import StoreError

# Version n is MIGRATIONS[n - 1]: the statements that bring a store at version n - 1 to n.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: runs, their measurements and their files
        "CREATE TABLE runs ("
        " run_id text PRIMARY KEY,"
        " bench text NOT NULL,"
        " procedure text NOT NULL,"
        " started text NOT NULL,"  # as the run index has it (ISO 8601)
        " started_at timestamptz,"  # the same, for searching and ordering
        " ended text,"
        " status text NOT NULL,"
        " verdict text,"
        " reason text,"
        " operator text,"
        " run_dir text NOT NULL,"  # where it was recorded, on its bench's controller
        " pid integer NOT NULL,"
        " signer_public_key text NOT NULL,"
        " manifest_sha256 text NOT NULL,"  # tells a record already stored from another with its id
        " pushed_at timestamptz NOT NULL DEFAULT now())",
        "CREATE INDEX runs_procedure_started ON runs (procedure, started_at)",
        "CREATE INDEX runs_bench_started ON runs (bench, started_at)",
        "CREATE TABLE measurements ("
        " run_id text NOT NULL REFERENCES runs ON DELETE CASCADE,"
        " name text NOT NULL,"
        " value double precision,"
        " uncertainty_k2 double precision,"  # expanded uncertainty U, k = 2
        " limit_value double precision,"
        " unit text,"
        " outcome text,"
        " PRIMARY KEY (run_id, name))",
        "CREATE TABLE files ("
        " run_id text NOT NULL REFERENCES runs ON DELETE CASCADE,"
        " path text NOT NULL,"  # relative to the run directory, POSIX form
        " sha256 text NOT NULL,"
        " content bytea NOT NULL,"
        " PRIMARY KEY (run_id, path))",
    ),
    (  # 2: the article tested (part and serial number), and certificates
        "ALTER TABLE runs ADD COLUMN part text, ADD COLUMN serial text",
        "CREATE INDEX runs_part_serial ON runs (part, serial)",
        "CREATE TABLE certificates ("
        " run_id text PRIMARY KEY REFERENCES runs ON DELETE CASCADE,"
        " html_sha256 text,"
        " pdf_sha256 text,"
        " sealed_at text,"  # when the record was sealed with its certificate
        " public_key text NOT NULL)",
    ),
)
LATEST = len(MIGRATIONS)
# pg_advisory_xact_lock's key for migrating: any constant other applications are unlikely to take.
_MIGRATION_LOCK = 0x1EA4_2160

Connection = psycopg.Connection[Any]


def version(conn: Connection) -> int:
    """The store's schema version (0: a database that holds no lab store yet)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection, where: str, target: int = LATEST) -> int:
    """Apply the migrations the store lacks up to ``target``, in order, in one transaction; its version after.

    :class:`StoreError` (nothing changed) when the store is newer than this rig knows.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version"
            " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = version(conn)
        if current < 0:
            raise StoreError(f"lab store {where} has schema version {current}, which no rig writes")
        if current > LATEST:
            raise StoreError(
                f"lab store {where} has schema version {current}, newer than this rig's {LATEST}:"
                " upgrade leakrig to use it"
            )
        for number in range(current + 1, target + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        return max(current, target)


def ensure_current(conn: Connection, where: str) -> None:
    """Bring the store to :data:`LATEST` (a no-op when it is there), refusing a newer one, or a
    database whose tables of those names are another application's."""
    try:
        if version(conn) == LATEST:
            return
        migrate(conn, where)
    except (psycopg.errors.DuplicateTable, psycopg.errors.UndefinedColumn) as exc:
        # The database's own message ('relation "runs" already exists') does not say what is wrong.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(
            f"lab store {where}: the database holds tables that are not a lab store's ({reason});"
            " give the lab store's own database"
        ) from None
