"""The outbox: forwards journaled check-ins to the hospital system (HIS), at least once.

Every check-in gets an outbox row in the same transaction that journals it
(:meth:`offline_cache.journal.Journal.record`). :meth:`Outbox.drain` POSTs the due ones as
JSON with ``Idempotency-Key: <checkin_id>``:

* 2xx — delivered: marked, never sent again;
* 409 echoing the same key (header or JSON ``idempotency_key``) — the HIS already has it
  (our earlier 2xx was lost on the way back): delivered;
* anything else (other statuses, timeouts, dropped connections) — tried again later, after
  ``backoff_s · 2^(attempts-1)`` (capped at :data:`MAX_BACKOFF_S`); after ``max_attempts``
  failures (if set) the row is parked as ``failed`` for staff instead of retried forever.

A crash between the HIS's 2xx and our mark means one more POST with the same key: the HIS
dedupes it. The payload is built from the sealed record at send time (XML 130 fields or a
FHIR bundle, :mod:`offline_cache.his`), so nothing personal waits in the outbox in any other
form, and a check-in completed later goes out complete. When the HIS is unreachable
(connection refused, timeout) the drain stops at the first such failure rather than paying
the timeout once per queued check-in; the rest stay due for the next drain. A check-in whose
sealed data does not open is quarantined by the journal and skipped (never retried); the
drain's report counts them, and every other check-in is still sent.

Each delivery is bounded whatever the HIS does (:mod:`kiosk.bounded_http`): ``timeout``
is a *total* deadline for the POST and its answer (a HIS dripping bytes is cut off at it,
``HisDeadlineExceeded``, and the drain stops as for an unreachable HIS), and the answer is
streamed and refused past ``max_answer_bytes`` after decompression (``HisAnswerTooLarge``, a
failed attempt: an answer not read to the end is no receipt).

Nothing personal is logged: only check-in ids, HTTP statuses and exception class names.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import httpx

from kiosk.bounded_http import (
    ACCEPT_ENCODING,
    MAX_BODY_BYTES,
    DeadlineTransport,
    check_url,
    deadline_scope,
    install_log_filter,
    is_tls_error,
    read_body,
    tls_context,
)
from offline_cache.crypto import Sealer
from offline_cache.his import fhir_bundle, xml130_payload
from offline_cache.his_errors import (
    HisAnswerTooLarge,
    HisAnswerUndecodable,
    HisAuthRefused,
    HisDeadlineExceeded,
    HisTlsError,
    HisUrlRefused,
)
from offline_cache.journal import CheckInRecord, Journal
from offline_cache.port import JournalPort
from offline_cache.port_types import Settle

log = logging.getLogger(__name__)

PayloadFormat = Literal["xml130", "fhir"]
BUILDERS: dict[str, Callable[[CheckInRecord], dict[str, Any]]] = {
    "xml130": xml130_payload,
    "fhir": fhir_bundle,
}
#: Longest wait between two attempts for one check-in.
MAX_BACKOFF_S = 600.0
#: Beyond the longest backoff, a retry time this much further ahead means the clock was set back
#: (so a journal's ``outbox_hold_s`` must stay below ``MAX_BACKOFF_S + CLOCK_SLACK_S``).
CLOCK_SLACK_S = 60.0
#: Check-ins read, sent and marked per database round (one read, one write transaction).
BATCH = 256


class DrainReport(NamedTuple):
    """One drain: check-ins delivered and attempts failed in it; outbox rows still pending;
    check-ins quarantined in all (their sealed data does not open: staff must see them)."""

    delivered: int
    failed: int
    pending: int
    quarantined: int = 0


class _Unreachable(Exception):
    """The HIS did not answer at all (connect error or timeout): stop this drain."""


class Outbox:
    """Sends the journal's pending check-ins to the HIS at ``url``.

    ``journal`` is an open storage adapter (:class:`offline_cache.port.JournalPort`: SQLite
    or PostgreSQL, left open by :meth:`close`), or the path of an SQLite journal, which the
    outbox opens (with ``sealer``) and closes itself.

    ``client`` lets the caller share an :class:`httpx.Client` (TLS settings, a mock
    transport in tests); otherwise one keep-alive client is made and closed by :meth:`close`.
    ``token`` is sent as ``Authorization: Bearer`` (the application reads it from
    ``$CCCD_KIOSK_HIS_TOKEN``). ``url`` must be ``https`` unless its host is this machine;
    ``allow_insecure_http`` is a lab switch (warned); else :class:`HisUrlRefused`.
    ``ca_bundle`` replaces the system trust for the HIS's certificate; ``client_cert`` (and
    ``client_key``) authenticate the kiosk by a TLS client certificate.
    ``concurrency`` > 1 keeps that many POSTs in flight (threads sharing the client's
    connection pool), in waves, so an unreachable HIS still stops the drain within one wave;
    1 (the default) sends strictly in queue order.
    """

    def __init__(
        self,
        journal: Path | JournalPort,
        sealer: Sealer,
        *,
        url: str,
        payload_format: PayloadFormat = "xml130",
        timeout: float = 5.0,
        max_attempts: int | None = None,
        backoff_s: float = 1.0,
        client: httpx.Client | None = None,
        concurrency: int = 1,
        max_answer_bytes: int = MAX_BODY_BYTES,
        token: str | None = None,
        allow_insecure_http: bool = False,
        ca_bundle: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
    ) -> None:
        if payload_format not in BUILDERS:
            raise ValueError(f"unknown HIS payload format {payload_format!r}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        tls = None
        if client is None:  # a caller's own client (a test's mock transport) is its business
            check_url(
                url,
                allow_insecure_http=allow_insecure_http,
                what="the HIS URL",
                error=HisUrlRefused,
            )
            tls = tls_context(  # files checked before anything is opened
                ca_bundle=ca_bundle,
                client_cert=client_cert,
                client_key=client_key,
                error=HisTlsError,
            )
        self.url = url
        self.payload_format = payload_format
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency) if concurrency > 1 else None
        self._build = BUILDERS[payload_format]
        self._own_journal = isinstance(journal, Path | str)
        self._journal: JournalPort = (
            Journal(Path(journal), sealer) if isinstance(journal, Path | str) else journal
        )
        # HTTP sending: ``timeout`` is the total deadline of one delivery (see the docstring).
        install_log_filter()
        self._token = token or None
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self._own_client = client is None
        self._client = client or httpx.Client(
            transport=DeadlineTransport(verify=tls),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )

    def close(self) -> None:
        """Close the database and, if this outbox made it, the HTTP client."""
        if self._pool is not None:
            self._pool.shutdown()
        if self._own_client:
            self._client.close()
        if self._own_journal:
            self._journal.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pending(self) -> int:
        """Check-ins not yet delivered and still being retried (due now or later)."""
        return self.counts()["pending"]

    def counts(self) -> dict[str, int]:
        """Outbox rows by state: ``pending``, ``delivered``, ``failed`` (gave up, see staff),
        ``quarantined`` (the sealed data does not open; never sent)."""
        return self._journal.outbox_counts()

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure: exponential, capped."""
        return float(min(MAX_BACKOFF_S, self.backoff_s * 2.0 ** max(0, attempts - 1)))

    def _send(self, record: CheckInRecord) -> tuple[bool, str]:
        """POST one check-in: (delivered?, status for the row). Raises _Unreachable."""
        body = json.dumps(self._build(record), ensure_ascii=False).encode("utf-8")
        key = record.checkin_id
        deadline = time.monotonic() + self.timeout
        try:
            with (
                deadline_scope(deadline),
                self._client.stream(
                    "POST",
                    self.url,
                    content=body,
                    headers=self._headers(key),
                ) as resp,
            ):
                answer = read_body(
                    resp,
                    max_bytes=self.max_answer_bytes,
                    deadline=deadline,
                    clock=time.monotonic,
                    too_large=HisAnswerTooLarge,
                    undecodable=HisAnswerUndecodable,
                    late=HisDeadlineExceeded,
                )
                status, headers = resp.status_code, resp.headers
        except httpx.ConnectError as exc:
            if is_tls_error(exc):
                log.error("outbox: TLS with the HIS failed (certificate not trusted?)")
                raise _Unreachable(HisTlsError.__name__) from exc
            raise _Unreachable(type(exc).__name__) from exc
        except httpx.TimeoutException as exc:
            late = time.monotonic() >= deadline - _DEADLINE_SLACK_S
            raise _Unreachable("HisDeadlineExceeded" if late else type(exc).__name__) from exc
        except HisDeadlineExceeded as exc:
            raise _Unreachable(type(exc).__name__) from exc
        except (HisAnswerTooLarge, HisAnswerUndecodable) as exc:
            return False, type(exc).__name__
        except httpx.HTTPError as exc:  # dropped connection, protocol error: retry later
            return False, type(exc).__name__
        if 200 <= status < 300:
            return True, str(status)
        if status == 409 and _echoes(headers, answer, key):
            return True, "409"
        if status in (401, 403):
            log.error("outbox: the HIS refused the kiosk's token (HTTP %d)", status)
            return False, f"{HisAuthRefused.__name__} {status}"
        return False, str(status)

    def _headers(self, key: str) -> dict[str, str]:
        """The request headers of one delivery: JSON, the idempotency key, the bearer token."""
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _attempt(self, record: CheckInRecord) -> tuple[bool, str, bool]:
        """One send, never raising: (delivered?, status for the row, HIS unreachable?)."""
        try:
            ok, status = self._send(record)
            return ok, status, False
        except _Unreachable as exc:
            return False, str(exc), True

    def _map(self, records: list[CheckInRecord]) -> list[tuple[bool, str, bool]]:
        """Attempt a wave of sends: in this thread, or ``concurrency`` at once."""
        if self._pool is None:
            return [self._attempt(r) for r in records]
        return list(self._pool.map(self._attempt, records))

    def drain(self, *, limit: int | None = None, now: datetime | None = None) -> DrainReport:
        """Send every due check-in (at most ``limit``), oldest first; mark the results.

        ``now`` (UTC aware) decides which rows are due and when failed ones come due again;
        tests pass it to step through backoff without sleeping. Rows are claimed from the
        journal (:meth:`offline_cache.port.OutboxQueue.outbox_claim`): on a shared database
        another kiosk draining at the same time gets other rows.
        """
        t = (now or datetime.now(UTC)).timestamp()
        delivered = failed = 0
        left = limit
        unreachable = False
        while not unreachable and (left is None or left > 0):
            n = BATCH if left is None else min(BATCH, left)
            # A retry time beyond the longest backoff was computed while the clock was
            # ahead (it has been set back since): due now, or it would stall until then.
            rows = self._journal.outbox_claim(n, now=t, clock_slack=MAX_BACKOFF_S + CLOCK_SLACK_S)
            if not rows:
                break
            fetched = len(rows)
            records = self._journal.get_many([r.checkin_id for r in rows])
            # A row that does not open is quarantined by the journal and leaves the queue;
            # the others go on (one bad row must not hold back every check-in behind it).
            for claimed in rows:
                if claimed.checkin_id not in records:
                    self._journal.quarantine(claimed.checkin_id, "missing")
            rows = [r for r in rows if r.checkin_id in records]
            outcomes: list[Settle] = []
            for start in range(0, len(rows), self.concurrency):
                wave = rows[start : start + self.concurrency]
                sent = self._map([records[c.checkin_id] for c in wave])
                for (checkin_id, attempts), (ok, status, down) in zip(wave, sent, strict=True):
                    unreachable = unreachable or down
                    if ok:
                        outcomes.append(Settle(checkin_id, True, status))
                        continue
                    tries = attempts + 1
                    gave_up = self.max_attempts is not None and tries >= self.max_attempts
                    log.warning(
                        "outbox: check-in %s not delivered (%s), attempt %d%s",
                        checkin_id,
                        status,
                        tries,
                        ", giving up" if gave_up else "",
                    )
                    state = "failed" if gave_up else "pending"
                    outcomes.append(
                        Settle(checkin_id, False, status, state, t + self.backoff(tries))
                    )
                if unreachable:
                    break
            # Rows claimed but not attempted (the HIS went unreachable mid-batch) keep their
            # schedule: on a shared database their claim simply expires.
            self._journal.outbox_settle(outcomes, now=t)
            delivered += sum(1 for o in outcomes if o.delivered)
            failed += sum(1 for o in outcomes if not o.delivered)
            if left is not None:
                left -= fetched
        pending = self.pending()
        quarantined = self.counts()["quarantined"]
        if delivered or failed:
            log.info("outbox: delivered %d, failed %d, pending %d", delivered, failed, pending)
        if quarantined:
            log.warning("outbox: %d check-ins quarantined (do not open), not sent", quarantined)
        return DrainReport(
            delivered=delivered, failed=failed, pending=pending, quarantined=quarantined
        )


#: A timeout this close to the deadline is the deadline (timers may fire a hair early).
_DEADLINE_SLACK_S = 0.05


def _echoes(headers: httpx.Headers, answer: bytes, key: str) -> bool:
    """Whether a 409 says "this idempotency key is already done" (not some other conflict)."""
    if headers.get("Idempotency-Key") == key:
        return True
    try:
        body = json.loads(answer)
    except (ValueError, RecursionError):
        return False
    return isinstance(body, dict) and body.get("idempotency_key") == key
