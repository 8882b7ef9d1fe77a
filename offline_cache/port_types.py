"""The plain values the storage port passes (a leaf: the adapters and the port import it).

See :mod:`offline_cache.port` for the contract itself.
"""

from __future__ import annotations

from typing import NamedTuple

#: The schema version each adapter's code is written for (see ``cccd-kiosk db upgrade``).
SQLITE_SCHEMA_VERSION = 1


class Claimed(NamedTuple):
    """One outbox row claimed for delivery: its check-in and how many attempts it had."""

    checkin_id: str
    attempts: int


class Settle(NamedTuple):
    """The outcome of one delivery attempt: delivered, or retried (``state`` pending/failed)
    at ``next_attempt_at`` (Unix seconds), with the status the row keeps."""

    checkin_id: str
    delivered: bool
    status: str
    state: str = "pending"
    next_attempt_at: float = 0.0


class SchemaStatus(NamedTuple):
    """A database's schema version against the code's (``cccd-kiosk db status``)."""

    adapter: str
    current: int
    target: int

    @property
    def up_to_date(self) -> bool:
        """Whether the schema is the one this code needs."""
        return self.current == self.target
