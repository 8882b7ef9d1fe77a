-- One kiosk's (or reception desk's) login role, a member of cccd_kiosk and nothing else
-- (run as a superuser after roles.sql, once per kiosk; the name shows in checkins.kiosk):
--
--   psql -v ON_ERROR_STOP=1 -d cccd -v kiosk=kiosk_01 -f deploy/postgres/kiosk_role.sql
--   psql -d cccd -c '\password kiosk_01'     # or a client certificate (pg_hba.conf "cert")
--
-- The kiosk then uses [storage] url = "postgresql://kiosk_01@db.bv.local/cccd?sslmode=verify-full"
-- (the password in ~/.pgpass of the kiosk's user, mode 0600, never in the config file).

CREATE ROLE :"kiosk" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    CONNECTION LIMIT 8 IN ROLE cccd_kiosk;
