"""Connections to the shared PostgreSQL, and its errors in the storage error family.

:func:`make_pool` opens a :class:`psycopg_pool.ConnectionPool` whose connections use the
``cccd`` schema (``search_path``) and are checked before each use, so a server restarted
meanwhile costs only the calls made while it was down. :func:`pg_error` turns any psycopg
(or pool) error into a :class:`offline_cache.crypto.StorageError` subclass by its class
(SQLSTATE), never by its text: unreachable → :class:`StorageUnreachable`, a lock or a
deadlock → :class:`StorageBusy`, no grant → :class:`StorageRefused`, no table →
:class:`SchemaOutdated`, a full disk → :class:`StorageFull`. The message names what to do,
never a row's content (psycopg's messages can quote values).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import psycopg
import psycopg_pool
from psycopg import errors as pg

from offline_cache.crypto import (
    SchemaOutdated,
    StorageBusy,
    StorageDamaged,
    StorageError,
    StorageFull,
    StorageRefused,
    StorageUnreachable,
)

#: The schema every table lives in (the owner role owns it; kiosks only use it).
SCHEMA = "cccd"
#: How long a call waits for a connection (the server down: then StorageUnreachable).
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_POOL_SIZE = 4

_P = ParamSpec("_P")
_R = TypeVar("_R")


def connect_kwargs(connect_timeout_s: float) -> dict[str, object]:
    """Connection options every connection gets: the schema, a connect timeout, a name."""
    return {
        "options": f"-c search_path={SCHEMA}",
        "connect_timeout": max(1, round(connect_timeout_s)),
        "application_name": "cccd-kiosk",
    }


def make_pool(
    url: str,
    *,
    max_size: int = DEFAULT_POOL_SIZE,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    wait: bool = True,
) -> psycopg_pool.ConnectionPool:
    """A pool of connections to ``url``, open with one connection made (else
    :class:`StorageUnreachable`); ``wait=False``: open at once, connecting in the
    background (a kiosk starting while the server is unreachable)."""
    pool = psycopg_pool.ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs=connect_kwargs(connect_timeout_s),
        timeout=connect_timeout_s,
        # give a lost connection up soon: a request then starts a fresh attempt at once,
        # instead of waiting out a backoff grown over a long outage (up to minutes)
        reconnect_timeout=max(1.0, connect_timeout_s),
        check=psycopg_pool.ConnectionPool.check_connection,
        open=False,
        name="cccd-kiosk",
    )
    if not wait:
        pool.open(wait=False)
        return pool
    try:
        pool.open(wait=True, timeout=connect_timeout_s)
    except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
        pool.close()
        raise pg_error(exc) from exc
    return pool


def pg_error(exc: BaseException) -> StorageError:
    """The storage error for a psycopg or pool failure, saying what to do next."""
    if isinstance(exc, pg.DiskFull | pg.OutOfMemory):
        return StorageFull("the database server's disk is full — nothing was saved")
    if isinstance(
        exc,
        pg.LockNotAvailable | pg.DeadlockDetected | pg.SerializationFailure | pg.QueryCanceled,
    ):
        return StorageBusy(f"the database was busy ({type(exc).__name__}) — try again")
    if isinstance(exc, pg.InsufficientPrivilege | pg.InvalidAuthorizationSpecification):
        return StorageRefused(
            f"the database refused this kiosk's role ({type(exc).__name__}) — check its "
            "grants (deploy/postgres/roles.sql)"
        )
    if isinstance(exc, pg.UndefinedTable | pg.InvalidSchemaName):
        return SchemaOutdated(
            "the shared database has no kiosk tables yet — run: cccd-kiosk db upgrade"
        )
    if isinstance(exc, pg.DataCorrupted | pg.IndexCorrupted):
        return StorageDamaged("the database server reports damaged data — restore it")
    unreachable = psycopg_pool.PoolTimeout | psycopg.OperationalError | psycopg.InterfaceError
    if isinstance(exc, unreachable):
        return StorageUnreachable(
            f"the database server cannot be reached ({type(exc).__name__}) — check the "
            "server, the network and the kiosk's credentials"
        )
    return StorageError(f"database error {type(exc).__name__}")


def pg_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: psycopg and pool errors leave as storage errors (:func:`pg_error`)."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise pg_error(exc) from exc

    return wrapper
