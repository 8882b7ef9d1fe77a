"""Versioned schema migrations of the shared database, and the check at start.

:data:`MIGRATIONS` lists each version's statements; :func:`upgrade` (``cccd-kiosk db
upgrade``, run as the owner role) applies the missing ones in one transaction under an
advisory lock (two upgrades at once: one waits, then finds nothing to do), records each in
``schema_version``, and grants the kiosk group role :data:`KIOSK_GROUP` exactly what a kiosk
needs on each table (when the role exists: ``deploy/postgres/roles.sql`` makes it). A kiosk
never migrates: :func:`check_version` refuses an older schema (:class:`SchemaOutdated`: run
the upgrade) and a newer one (:class:`SchemaTooNew`: update the kiosk).

Only non-personal columns are in clear, as in the SQLite journal: ids, times, method, the
chip-verified flag, the queue number, the department and room codes, and HMACs; every
personal field is a sealed ``bytea``.
"""

from __future__ import annotations

import psycopg

from offline_cache.crypto import SchemaOutdated, SchemaTooNew, Sealer
from offline_cache.pg.connect import SCHEMA, connect_kwargs, pg_errors
from offline_cache.port_types import SchemaStatus

#: The NOLOGIN role every kiosk's login role is a member of (its grants are the kiosk's).
KIOSK_GROUP = "cccd_kiosk"
#: An arbitrary constant: the advisory lock that serialises concurrent upgrades.
_UPGRADE_LOCK = 0x63636364

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE meta (name text PRIMARY KEY, value text NOT NULL)",
        """CREATE TABLE checkins (
            checkin_id text PRIMARY KEY,
            day date NOT NULL,
            department text NOT NULL DEFAULT '',
            queue_number integer NOT NULL CHECK (queue_number > 0),
            created_at timestamptz NOT NULL,
            method text NOT NULL CHECK (method IN ('chip', 'bhyt_qr', 'manual')),
            chip_verified boolean NOT NULL,
            id_index text,
            sealed bytea NOT NULL,
            eligibility bytea,
            room text NOT NULL DEFAULT '',
            kiosk text NOT NULL DEFAULT current_user,
            UNIQUE (day, department, queue_number)
        )""",
        "CREATE INDEX checkins_visit ON checkins (day, id_index, department)",
        "CREATE INDEX checkins_id_index ON checkins (id_index)",
        # The last number handed out per local day and department, bumped in the check-in's
        # own transaction: its row lock orders concurrent check-ins of one department.
        """CREATE TABLE queue_counters (
            day date NOT NULL,
            department text NOT NULL,
            last_number integer NOT NULL,
            PRIMARY KEY (day, department)
        )""",
        """CREATE TABLE outbox (
            checkin_id text PRIMARY KEY REFERENCES checkins (checkin_id),
            state text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at double precision NOT NULL,
            last_status text,
            delivered_at double precision,
            claimed_by text,
            claimed_until double precision
        )""",
        "CREATE INDEX outbox_due ON outbox (state, next_attempt_at)",
        """CREATE TABLE quarantine (
            checkin_id text PRIMARY KEY,
            reason text NOT NULL,
            found_at timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE eligibility_cache (
            key text PRIMARY KEY,
            as_of text NOT NULL,
            sealed bytea NOT NULL
        )""",
        "CREATE INDEX eligibility_cache_as_of ON eligibility_cache (as_of)",
    ),
    # "Call next": which numbers desks have called, shared by every desk and display
    # (offline_cache/pg/calls.py); non-personal columns only.
    2: (
        """CREATE TABLE calls (
            day date NOT NULL,
            department text NOT NULL,
            queue_number integer NOT NULL,
            state text NOT NULL CHECK (state IN ('called', 'served', 'no_show')),
            desk text NOT NULL,
            room text NOT NULL DEFAULT '',
            called_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            announce_seq bigint NOT NULL,
            announcements integer NOT NULL DEFAULT 1,
            PRIMARY KEY (day, department, queue_number)
        )""",
        "CREATE INDEX calls_announce ON calls (day, announce_seq)",
        """CREATE TABLE calls_version (
            id integer PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL
        )""",
        "INSERT INTO calls_version (id, version) VALUES (1, 0)",
    ),
    # The kiosks of the hospital (offline_cache/spool.py): each one's block of offline queue
    # numbers (block × 1000 + 1 … + 999, never handed out by the shared counter), when it
    # was last seen (desks show a kiosk gone quiet) and since when it has been offline.
    3: (
        """CREATE TABLE kiosks (
            kiosk_id text PRIMARY KEY,
            name text NOT NULL,
            block integer NOT NULL UNIQUE CHECK (block BETWEEN 1 AND 99),
            last_seen timestamptz NOT NULL DEFAULT now(),
            offline_since timestamptz,
            synced integer NOT NULL DEFAULT 0
        )""",
    ),
}
#: The version this code needs.
TARGET = max(MIGRATIONS)

#: What the kiosk group may do, table by table (nothing else: no DDL, no other schema).
GRANTS: dict[str, str] = {
    "schema_version": "SELECT",
    "meta": "SELECT, INSERT",
    "checkins": "SELECT, INSERT, UPDATE, DELETE",
    "queue_counters": "SELECT, INSERT, UPDATE, DELETE",
    "outbox": "SELECT, INSERT, UPDATE, DELETE",
    "quarantine": "SELECT, INSERT, DELETE",
    "eligibility_cache": "SELECT, INSERT, UPDATE, DELETE",
    "calls": "SELECT, INSERT, UPDATE, DELETE",
    "calls_version": "SELECT, UPDATE",
    "kiosks": "SELECT, INSERT, UPDATE",
}


def _current(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    found = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)).fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute(f"SELECT MAX(version) FROM {SCHEMA}.schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0  # type: ignore[call-overload]


@pg_errors
def status(url: str, *, connect_timeout_s: float = 5.0) -> SchemaStatus:
    """The database's schema version against :data:`TARGET` (``cccd-kiosk db status``)."""
    with psycopg.connect(url, **connect_kwargs(connect_timeout_s)) as conn:  # type: ignore[arg-type]
        return SchemaStatus("postgresql", _current(conn), TARGET)


def check_version(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Refuse a schema this code cannot use (older: :class:`SchemaOutdated`; newer:
    :class:`SchemaTooNew`)."""
    current = _current(conn)
    if current > TARGET:
        raise SchemaTooNew(
            f"the shared database's schema is version {current}, this kiosk knows up to "
            f"{TARGET} — update the kiosk software"
        )
    if current < TARGET:
        raise SchemaOutdated(
            f"the shared database's schema is version {current}, this kiosk needs {TARGET} "
            "— run: cccd-kiosk db upgrade (as the owner role)"
        )


@pg_errors
def upgrade(url: str, sealer: Sealer | None = None, *, connect_timeout_s: float = 5.0) -> int:
    """Apply every missing migration (one transaction); returns how many were applied.

    ``sealer`` (the hospital's storage key) records the key's check value in ``meta`` when
    none is there yet, so a kiosk started with another key is refused before it writes.
    Refuses a schema newer than this code (:class:`SchemaTooNew`).
    """
    with (
        psycopg.connect(url, **connect_kwargs(connect_timeout_s)) as conn,  # type: ignore[arg-type]
        conn.transaction(),
    ):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
        if exists is None:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version integer PRIMARY"
            " KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = _current(conn)
        if current > TARGET:
            raise SchemaTooNew(
                f"the shared database's schema is version {current}, newer than this "
                f"code's {TARGET} — upgrade with the newer kiosk software"
            )
        applied = 0
        for version in sorted(v for v in MIGRATIONS if v > current):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"INSERT INTO {SCHEMA}.schema_version (version) VALUES (%s)", (version,))
            applied += 1
        _grant(conn)
        if sealer is not None:
            conn.execute(
                f"INSERT INTO {SCHEMA}.meta (name, value) VALUES ('key_check', %s)"
                " ON CONFLICT (name) DO NOTHING",
                (sealer.key_check(),),
            )
    return applied


def _grant(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Grant the kiosk group its table privileges (idempotent; skipped without the role)."""
    role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (KIOSK_GROUP,)).fetchone()
    if role is None:
        return
    conn.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {KIOSK_GROUP}")
    for table, privileges in GRANTS.items():
        conn.execute(f"GRANT {privileges} ON {SCHEMA}.{table} TO {KIOSK_GROUP}")
