"""Least privilege on the shared database: deploy/postgres/roles.sql and kiosk_role.sql, run
with the real ``psql`` on the worker's private server.

The owner role upgrades the schema; a kiosk's own login role checks patients in, drains the
outbox and purges — and cannot drop or alter a table, create one, rewrite the schema
version, read another schema, or run ``db upgrade``. Each refusal is the typed
:class:`StorageRefused` with its error-table entry.
"""

from __future__ import annotations

import secrets
import subprocess
from datetime import date
from pathlib import Path

import psycopg
import pytest

from kiosk.app.messages import message_for
from offline_cache.crypto import Sealer, StorageRefused
from offline_cache.pg.connect import pg_error
from offline_cache.pg.schema import TARGET, upgrade
from offline_cache.pg.store import PgStore
from tests.fixtures.pg_workers import KEY, holder
from tests.fixtures.postgres import PgServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postgres"


def _as(url: str, role: str) -> str:
    return url.replace("postgres@", f"{role}@", 1)


def _psql(postgres: PgServer, url: str, script: str, **variables: str) -> None:
    args = [str(postgres.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    subprocess.run([*args, "-f", str(DEPLOY / script)], check=True, capture_output=True, timeout=60)


@pytest.fixture
def kiosk_url(postgres: PgServer, pg_url: str) -> str:
    """The URL of a fresh kiosk role on a database set up by roles.sql and db upgrade."""
    _psql(postgres, pg_url, "roles.sql")
    _psql(postgres, pg_url, "roles.sql")  # idempotent
    kiosk = f"kiosk_{secrets.token_hex(3)}"
    _psql(postgres, pg_url, "kiosk_role.sql", kiosk=kiosk)
    assert upgrade(_as(pg_url, "cccd_owner"), Sealer(KEY)) == TARGET  # every migration
    return _as(pg_url, kiosk)


def _refused(url: str, statement: str) -> StorageRefused:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            err = pg_error(exc)
            assert isinstance(err, StorageRefused), (statement, type(exc).__name__)
            return err
    raise AssertionError(f"{statement!r} was allowed")


def test_a_kiosk_role_checks_in_drains_and_purges(kiosk_url: str) -> None:
    store = PgStore.open(kiosk_url, Sealer(KEY))
    try:
        j = store.journal
        rec = j.record(method="manual", chip_verified=False, holder=holder(1), department="NOI")
        j.attach_eligibility(rec.checkin_id, {"status": "eligible"})
        claimed = j.outbox_claim(10, now=rec.created_at.timestamp() + 1, clock_slack=660)
        assert [c.checkin_id for c in claimed] == [rec.checkin_id]
        store.cache.put("001088034517", {"status": "eligible"}, as_of=rec.created_at)
        assert j.purge(date(2000, 1, 1)) == (0, 0)
        assert j.get(rec.checkin_id) is not None
    finally:
        store.close()
    with psycopg.connect(kiosk_url) as conn:
        row = conn.execute("SELECT kiosk FROM cccd.checkins").fetchone()
    assert row is not None and row[0].startswith("kiosk_")  # which kiosk, for the desks


def test_a_kiosk_role_cannot_change_the_schema_or_read_elsewhere(
    kiosk_url: str, pg_url: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the HIS's own data, next door
        conn.execute("CREATE SCHEMA his")
        conn.execute("CREATE TABLE his.patients (name text)")
    for statement in (
        "DROP TABLE cccd.checkins",
        "ALTER TABLE cccd.checkins ADD COLUMN x text",
        "TRUNCATE cccd.outbox",
        "CREATE TABLE cccd.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "UPDATE cccd.schema_version SET version = 99",
        "DELETE FROM cccd.meta",
        "SELECT * FROM his.patients",
        "CREATE ROLE sneaky",
    ):
        err = _refused(kiosk_url, statement)
    assert "grants" in str(err)
    assert message_for(err).title_en == "The database server refused the kiosk's account"


def test_a_kiosk_role_cannot_run_db_upgrade(kiosk_url: str) -> None:
    with pytest.raises(StorageRefused):
        upgrade(kiosk_url, Sealer(KEY))
