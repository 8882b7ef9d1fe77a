"""The PostgreSQL storage adapter: every kiosk and desk of a hospital on one server.

* :mod:`offline_cache.pg.connect` — the connection pool (psycopg 3, psycopg_pool) and the
  mapping of every psycopg error to the storage error family;
* :mod:`offline_cache.pg.schema` — the versioned migrations (``schema_version``), run by
  ``cccd-kiosk db upgrade`` as the owner role, and the check every kiosk makes at start;
* :mod:`offline_cache.pg.journal` — the shared journal, queue counters and outbox queue;
* :mod:`offline_cache.pg.cache` — the shared eligibility cache;
* :class:`offline_cache.pg.store.PgStore` — one pool, checked, with its journal and cache.
"""
