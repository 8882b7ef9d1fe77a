"""The storage port: what the application layer and the outbox need of a storage adapter.

Two adapters implement it: SQLite (:mod:`offline_cache.journal`, :mod:`offline_cache.cache`:
one kiosk, the embedded default) and PostgreSQL (:mod:`offline_cache.pg`: every kiosk and
desk of a hospital on one server). The contract is the same — the contract tests
(``tests/offline_cache/test_storage_contract.py``) run one suite over both:

* :class:`JournalPort` — check-ins with their per-department per-day queue number (a counter
  row bumped in the check-in's own transaction: gap-free, never repeated), re-taps, the day's
  list, search, attaching the verdict and the insurance answer, quarantine and retention;
* :class:`OutboxQueue` — the journal's outbox rows as the :class:`offline_cache.outbox.Outbox`
  drains them: claim the due ones (on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` and a claim
  that expires, so several kiosks drain one queue and a killed one's rows go to another),
  then settle them (delivered, or retried later);
* :class:`CachePort` — the eligibility cache (sealed answers under an HMAC of the ID number).

Personal data is sealed by the same :class:`offline_cache.crypto.Sealer` in both: the
database server never sees a name, an ID number or a photo in clear.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from offline_cache.port_types import Claimed, SchemaStatus, Settle

if TYPE_CHECKING:
    from offline_cache.cache import CachedEntry
    from offline_cache.journal import CheckInRecord, Method, PurgeCount

__all__ = ["CachePort", "Claimed", "JournalPort", "OutboxQueue", "SchemaStatus", "Settle"]


class OutboxQueue(Protocol):
    """The outbox rows of a journal, as :class:`offline_cache.outbox.Outbox` drains them."""

    def outbox_claim(self, limit: int, *, now: float, clock_slack: float) -> list[Claimed]:
        """Claim up to ``limit`` due rows (oldest due first) for this process.

        Due: ``pending`` with ``next_attempt_at <= now`` or beyond ``now + clock_slack``
        (computed while the clock was ahead). An adapter shared by several processes hands a
        row to one claimant at a time until the claim expires.
        """
        ...

    def outbox_settle(self, outcomes: list[Settle], *, now: float) -> None:
        """Record the outcomes of claimed rows in one transaction (only pending rows change)."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by state (``pending``, ``delivered``, ``failed``, ``quarantined``)."""
        ...


class JournalPort(OutboxQueue, Protocol):
    """The check-in journal (and its outbox rows) as the application layer uses it."""

    def record(
        self,
        *,
        method: Method,
        chip_verified: bool,
        holder: dict[str, Any],
        authenticity: dict[str, Any] | None = None,
        bhyt_card: str | None = None,
        now: datetime | None = None,
        reuse_today: bool = False,
        department: str = "",
        room: str = "",
    ) -> CheckInRecord: ...

    def attach_eligibility(self, checkin_id: str, eligibility: dict[str, Any]) -> None: ...

    def attach_verification(
        self, checkin_id: str, *, chip_verified: bool, authenticity: dict[str, Any] | None
    ) -> None: ...

    def get(self, checkin_id: str) -> CheckInRecord | None: ...

    def get_many(self, checkin_ids: list[str]) -> dict[str, CheckInRecord]: ...

    def day(self, d: date) -> list[CheckInRecord]: ...

    def search(self, d: date, text: str) -> list[CheckInRecord]: ...

    def by_patient(self, id_number: str) -> list[str]: ...

    def numbers_today(
        self, id_number: str, *, now: datetime | None = None
    ) -> dict[str, tuple[int, str]]: ...

    def quarantine(self, checkin_id: str, reason: str) -> None: ...

    def quarantined(self) -> list[str]: ...

    def purge(self, before: date, *, undelivered: bool = False) -> PurgeCount: ...

    def close(self) -> None: ...


class CachePort(Protocol):
    """The eligibility cache (sealed last answers per patient)."""

    def put(
        self,
        id_number: str,
        payload: dict[str, Any],
        *,
        as_of: datetime,
        now: datetime | None = None,
    ) -> None: ...

    def get(self, id_number: str, *, now: datetime | None = None) -> CachedEntry | None: ...

    def purge(self, *, now: datetime | None = None) -> int: ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...
