-- The shared database's roles, least privilege (run once per database, as a superuser):
--
--   psql -v ON_ERROR_STOP=1 -d cccd -f deploy/postgres/roles.sql
--
-- * cccd_owner  — LOGIN; owns the schema "cccd" and its tables; `cccd-kiosk db upgrade`
--                 runs as it (give it a password: \password cccd_owner, or a certificate).
-- * cccd_kiosk  — NOLOGIN group; `db upgrade` grants it exactly what a kiosk needs, table by
--                 table (offline_cache/pg/schema.py GRANTS): rows in, rows out, no DDL.
-- * one LOGIN role per kiosk or desk, member of cccd_kiosk: deploy/postgres/kiosk_role.sql.
--
-- Nobody else may connect to this database or create anything in its public schema.
-- Idempotent: running it again changes nothing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cccd_owner') THEN
        CREATE ROLE cccd_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cccd_kiosk') THEN
        CREATE ROLE cccd_kiosk NOLOGIN;
    END IF;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO cccd_owner, cccd_kiosk', current_database());
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS cccd AUTHORIZATION cccd_owner;
REVOKE ALL ON SCHEMA cccd FROM PUBLIC;
GRANT USAGE ON SCHEMA cccd TO cccd_kiosk;
