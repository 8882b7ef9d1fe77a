"""The check-in pipeline: tap → read → journal → eligibility (in parallel) → verify → result.

The point of a tap is the answer "is this patient's BHYT valid here, today?", as fast as
the card allows. So the pipeline does not wait for the whole read before asking the
gateway: the moment DG13 (the Vietnamese personal data, read right after DG1 and before the
40 KB photo in DG2) yields the ID number, it

1. writes the check-in to the journal — durable before any network call, so an outage or
   a crash never costs the patient their queue number — and
2. starts the eligibility look-up on a worker thread,

while the reader goes on with DG2, DG14, DG15 and the authenticity checks. Tap→result is
then about max(card read, gateway) instead of their sum.

When the gateway is down, slow (past ``eligibility_timeout``) or answers garbage, the
answer comes from the encrypted cache (``source="cache"``, ``stale`` when past its TTL,
with its age); with nothing cached the answer is ``unknown`` / "ask staff". A live answer
that says something definite is put into the cache for the next outage.

**Choosing the department later.** With ``queue=None`` (:data:`CHOOSE_LATER`) the number
cannot be taken at DG13, as the queue it counts in is not known yet: the pipeline reads,
verifies and asks the gateway as usual but journals nothing, and returns a *pending* outcome
(``checkin_id`` "", ``queue_number`` 0, :attr:`CheckInOutcome.pending`). The Qt kiosk shows
the result and the department buttons; :meth:`CheckInPipeline.assign` then journals the
check-in in the chosen queue (the same record, verification and answer as above, a repeat
today getting its number back). A patient who walks away before choosing leaves nothing in
the journal. The command line and the terminal name the department up front and keep the
journal-at-DG13 path.

Patients without a readable chip check in with their BHYT card QR
(:meth:`CheckInPipeline.checkin_bhyt_qr`) or at reception with a typed ID, name and birth
date (:meth:`CheckInPipeline.checkin_manual`); those check-ins are not chip-verified.

Progress goes to ``on_event`` as :class:`CheckInEvent` values, always on the calling thread
(the UI marshals them to its own). Events and log records carry no personal data: only
phases, counts, check-in ids and status words.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from kiosk.cccd.access import AccessKey
from kiosk.cccd.bhyt_qr import BhytCard, parse_bhyt_qr
from kiosk.cccd.holder import Holder, holder_from
from kiosk.cccd.typed import typed_birth_date, typed_name
from kiosk.eligibility.base import EligibilityBackend, EligibilityResult, Person, ask_staff
from kiosk.eligibility.errors import (
    ConfigurationError,
    EligibilityError,
    GatewayAuthError,
)
from kiosk.emrtd import aa as aa_mod
from kiosk.emrtd import ca as ca_mod
from kiosk.emrtd import pa as pa_mod
from kiosk.emrtd.errors import AccessKeyError, EmrtdError
from kiosk.emrtd.lds import dg1 as dg1_mod
from kiosk.emrtd.lds import dg13 as dg13_mod
from kiosk.emrtd.session import AccessMode, ReaderSession, ReadResult
from kiosk.emrtd.trust import TrustStore
from kiosk.transport import Transport

log = logging.getLogger(__name__)

Method = Literal["chip", "bhyt_qr", "manual"]
EventKind = Literal["reading", "verified", "eligibility", "done", "error"]

#: Longest the pipeline waits for the gateway after the card is read (the backend's own
#: timeouts are shorter; this only bounds a backend that forgets them).
DEFAULT_ELIGIBILITY_TIMEOUT_S = 10.0

#: Files whose arrival (after DG1) means DG13 will not come next: start from DG1 then.
_ID_FILES = ("DG1", "DG13")


class CheckInCache(Protocol):
    """What the pipeline needs of :class:`offline_cache.cache.EligibilityCache`."""

    def put(self, id_number: str, payload: dict[str, Any], *, as_of: datetime) -> None: ...

    def get(self, id_number: str, *, now: datetime | None = None) -> Any: ...


class CheckInJournal(Protocol):
    """What the pipeline needs of :class:`offline_cache.journal.Journal`."""

    def record(
        self,
        *,
        method: Method,
        chip_verified: bool,
        holder: dict[str, Any],
        authenticity: dict[str, Any] | None = None,
        bhyt_card: str | None = None,
        reuse_today: bool = False,
        department: str = "",
        room: str = "",
    ) -> Any: ...

    def attach_verification(
        self, checkin_id: str, *, chip_verified: bool, authenticity: dict[str, Any] | None
    ) -> None: ...

    def attach_eligibility(self, checkin_id: str, eligibility: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Queue:
    """Which queue a check-in takes a number in: a department code and its room ("" and
    "": the clinic's one queue). The application layer resolves it from the configuration;
    the pipeline only hands it to the journal, which counts numbers per department per day.
    """

    department: str = ""
    room: str = ""


#: The clinic's one queue (no departments configured or none chosen).
ONE_QUEUE = Queue()
#: ``queue=CHOOSE_LATER``: journal nothing yet; the front-end calls
#: :meth:`CheckInPipeline.assign` once the patient chose the department.
CHOOSE_LATER = None


@dataclass(frozen=True)
class PendingCheckIn:
    """What :meth:`CheckInPipeline.assign` journals for an outcome read with
    :data:`CHOOSE_LATER` (personal data: never log)."""

    holder_json: dict[str, Any]
    bhyt_card: str | None

    def __repr__(self) -> str:
        return "PendingCheckIn(<personal data>)"


@dataclass(frozen=True)
class CheckInEvent:
    """One progress step for the UI; never personal data.

    ``kind`` is ``reading`` (``phase`` = step or file name, ``done``/``total`` bytes),
    ``verified`` (``phase`` = the Passive Authentication verdict), ``eligibility``
    (``phase`` = ``started``, ``live``, ``cache`` or ``ask_staff``), ``done`` (``phase`` =
    the eligibility status) or ``error`` (``phase`` = the exception class name).
    """

    kind: EventKind
    phase: str
    done: int = 0
    total: int = 0
    checkin_id: str | None = None


#: Why a card failed its authenticity checks (:meth:`Authenticity.failure`).
FailureKind = Literal["clone", "revoked", "tampered", "forged", "unknown_issuer"]


@dataclass(frozen=True)
class Authenticity:
    """The three chip checks of a read (None when not run)."""

    passive_auth: pa_mod.PassiveAuthResult | None
    chip_auth: ca_mod.CAResult | None
    active_auth: aa_mod.AAResult | None

    @property
    def verified(self) -> bool:
        """Data proven genuine: PA verified and neither CA nor AA failed (a clone fails them)."""
        pa = self.passive_auth
        return (
            pa is not None
            and pa.verdict == "verified"
            and not (self.chip_auth is not None and self.chip_auth.result == "failed")
            and not (self.active_auth is not None and self.active_auth.result == "failed")
        )

    @property
    def failed(self) -> bool:
        """Proof against the card: PA failed (tampered, forged, revoked) or CA/AA failed (a
        clone). Such a card is sent to the desk, not checked in by itself."""
        pa = self.passive_auth
        return (
            (pa is not None and pa.verdict == "failed")
            or (self.chip_auth is not None and self.chip_auth.result == "failed")
            or (self.active_auth is not None and self.active_auth.result == "failed")
        )

    def failure(self) -> FailureKind | None:
        """Why the card failed, in the words reception needs (None: it did not fail).

        ``clone`` (CA or AA failed: the chip lacks the original's private key), ``revoked``
        (the document signer's certificate is on a CRL), ``tampered`` (a data group does
        not match its hash), ``forged`` (the SOD's signature or its chain is wrong),
        ``unknown_issuer`` (not proven forged, but no trusted CSCA vouches for it)."""
        pa = self.passive_auth
        if (self.chip_auth is not None and self.chip_auth.result == "failed") or (
            self.active_auth is not None and self.active_auth.result == "failed"
        ):
            return "clone"
        if pa is None:
            return None
        reasons = " ".join(pa.reasons).lower()
        if pa.verdict == "failed":
            if "revoked" in reasons:
                return "revoked"
            if "does not match its hash" in reasons or "not listed in the sod" in reasons:
                return "tampered"
            return "forged"
        if pa.verdict == "issuer_unknown":
            return "unknown_issuer"
        return None

    def to_json(self) -> dict[str, Any]:
        """The three results as JSON (the same objects as ``cccd-kiosk read --json``)."""
        return {
            "passive_auth": self.passive_auth.to_json() if self.passive_auth else None,
            "chip_auth": self.chip_auth.to_json() if self.chip_auth else None,
            "active_auth": self.active_auth.to_json() if self.active_auth else None,
        }

    @classmethod
    def of(cls, result: ReadResult) -> Authenticity:
        return cls(result.passive_auth, result.chip_auth, result.active_auth)


@dataclass(frozen=True)
class CheckInOutcome:
    """What one check-in produced (``holder`` and ``read`` hold personal data: never log).

    ``cache_age`` is the age of a cached answer (None for a live one or "ask staff");
    ``read`` is the full chip read for the chip method (the CLI prints it); ``repeat`` means
    the patient was already checked in today and keeps that check-in's number.
    """

    checkin_id: str
    queue_number: int
    holder: Holder | None
    authenticity: Authenticity | None
    eligibility: EligibilityResult
    chip_verified: bool
    method: Method
    cache_age: timedelta | None = None
    bhyt_card: BhytCard | None = None
    read: ReadResult | None = None
    repeat: bool = False
    #: The department the number counts in ("": the clinic's one queue) and its room.
    department: str = ""
    room: str = ""
    #: Set while no number is taken yet (read with :data:`CHOOSE_LATER`): what
    #: :meth:`CheckInPipeline.assign` journals.
    pending: PendingCheckIn | None = None

    @property
    def is_pending(self) -> bool:
        """Whether the check-in still waits for its department (nothing journaled yet)."""
        return self.pending is not None

    def __repr__(self) -> str:
        return (
            f"CheckInOutcome(checkin_id={self.checkin_id!r}, method={self.method!r}, "
            f"status={self.eligibility.status!r}, source={self.eligibility.source!r}, "
            "<personal data>)"
        )


@dataclass
class _Lookup:
    """One eligibility look-up in flight (started from the read hook or directly)."""

    person: Person
    checkin_id: str
    queue_number: int
    holder_json: dict[str, Any]
    future: concurrent.futures.Future[tuple[EligibilityResult, timedelta | None]]
    repeat: bool = False
    queue: Queue = ONE_QUEUE
    #: Not journaled (the department is chosen later): what :meth:`assign` will journal.
    pending: PendingCheckIn | None = None


class _EarlyLookUp:
    """A look-up started from the CCCD QR before the chip was read, and the person it asks
    about; :meth:`take` hands it over once, only for that same person (ID number, name and
    birth date: a QR of one card held over another card gets no answer of the other)."""

    def __init__(
        self,
        future: concurrent.futures.Future[tuple[EligibilityResult, timedelta | None]],
        person: Person,
    ) -> None:
        self.future: concurrent.futures.Future[tuple[EligibilityResult, timedelta | None]] | None
        self.future = future
        self.person = person

    def take(
        self, person: Person
    ) -> concurrent.futures.Future[tuple[EligibilityResult, timedelta | None]] | None:
        """The early look-up if it asked about ``person`` (else None, and it is dropped)."""
        future, self.future = self.future, None
        if future is None:
            return None
        mine = self.person

        def same_name(a: str, b: str) -> bool:
            return (
                unicodedata.normalize("NFC", a).casefold()
                == unicodedata.normalize("NFC", b).casefold()
            )

        if (
            mine.id_number == person.id_number
            and same_name(mine.full_name, person.full_name)
            and mine.date_of_birth == person.date_of_birth
        ):
            return future
        future.cancel()
        return None

    def drop(self) -> None:
        """Not needed after all (the read failed, or another card was on the reader)."""
        if self.future is not None:
            self.future.cancel()
            self.future = None


def _person_from(holder: Holder) -> Person | None:
    if not holder.id_number or not holder.full_name:
        return None
    return Person(
        id_number=holder.id_number,
        full_name=holder.full_name,
        date_of_birth=holder.date_of_birth,
        birth_year=holder.date_of_birth.year if holder.date_of_birth else None,
        sex=holder.sex,
    )


class CheckInPipeline:
    """Runs check-ins against one eligibility backend, cache and journal.

    ``trust`` is the CSCA trust store for Passive Authentication. ``on_event`` receives
    :class:`CheckInEvent` values on the calling thread. One pipeline serves one kiosk: calls
    are not meant to overlap (the journal's connection belongs to the calling thread).
    """

    def __init__(
        self,
        backend: EligibilityBackend | None,
        cache: CheckInCache,
        journal: CheckInJournal,
        *,
        trust: TrustStore | None = None,
        on_event: Callable[[CheckInEvent], None] | None = None,
        eligibility_timeout: float = DEFAULT_ELIGIBILITY_TIMEOUT_S,
        access: AccessMode | str = AccessMode.AUTO,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.journal = journal
        self.trust = trust
        self.on_event = on_event
        self.eligibility_timeout = eligibility_timeout
        self.access = AccessMode(access)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="eligibility"
        )

    def close(self) -> None:
        """Stop the worker threads (look-ups still running finish in the background)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> CheckInPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- events ------------------------------------------------------------------------

    def _emit(self, kind: EventKind, phase: str, done: int = 0, total: int = 0, **kw: Any) -> None:
        if self.on_event is not None:
            self.on_event(CheckInEvent(kind, phase, done, total, **kw))

    # ---- eligibility -------------------------------------------------------------------

    def _start(
        self,
        person: Person,
        *,
        method: Method,
        holder_json: dict[str, Any],
        bhyt_card: str | None,
        queue: Queue | None,
        early: _EarlyLookUp | None = None,
    ) -> _Lookup:
        """Journal the check-in in ``queue`` (durable), then start the look-up on a worker
        thread; with ``queue`` None (:data:`CHOOSE_LATER`) only start the look-up. A look-up
        ``early`` started for this same person (from the CCCD QR) is used instead."""
        future = early.take(person) if early is not None else None
        if queue is None:
            future = future or self._executor.submit(self._look_up, person)
            log.info("check-in (%s): eligibility started, department to be chosen", method)
            self._emit("eligibility", "started")
            return _Lookup(
                person, "", 0, holder_json, future, pending=PendingCheckIn(holder_json, bhyt_card)
            )
        record = self.journal.record(
            method=method,
            chip_verified=False,
            holder=holder_json,
            bhyt_card=bhyt_card,
            reuse_today=True,
            department=queue.department,
            room=queue.room,
        )
        future = future or self._executor.submit(self._look_up, person)
        log.info("check-in %s: journaled (%s), eligibility started", record.checkin_id, method)
        self._emit("eligibility", "started", checkin_id=record.checkin_id)
        return _Lookup(
            person,
            record.checkin_id,
            record.queue_number,
            holder_json,
            future,
            record.repeat,
            Queue(record.department, record.room),
        )

    def _look_up(self, person: Person) -> tuple[EligibilityResult, timedelta | None]:
        """Worker thread: ask the backend; on no answer, the cache; then "ask staff"."""
        reason_vi = "Không kết nối được cổng BHXH và chưa có kết quả lưu — hỏi nhân viên"
        reason_en = "BHXH gateway unreachable and no saved answer — ask staff"
        if self.backend is None:
            reason_vi = "Chưa cấu hình cổng BHXH và chưa có kết quả lưu — hỏi nhân viên"
            reason_en = "No BHXH gateway configured and no saved answer — ask staff"
        else:
            try:
                result = self.backend.check(person)
            except (GatewayAuthError, ConfigurationError) as exc:
                log.error("eligibility: gateway refused the kiosk (%s)", type(exc).__name__)
                reason_vi = "Cổng BHXH từ chối tài khoản của máy — hỏi nhân viên"
                reason_en = "The BHXH gateway refused the kiosk's account — ask staff"
            except EligibilityError as exc:
                log.warning("eligibility: no answer from the gateway (%s)", type(exc).__name__)
            except Exception as exc:  # a backend bug must not lose the check-in
                log.error("eligibility: backend failed (%s)", type(exc).__name__)
            else:
                if result.status != "unknown":
                    try:
                        self.cache.put(person.id_number, result.to_json(), as_of=result.as_of)
                    except Exception as exc:  # the answer matters more than caching it
                        log.error("eligibility cache: put failed (%s)", type(exc).__name__)
                return result, None
        return self._from_cache(person, reason_vi, reason_en)

    def _from_cache(
        self, person: Person, reason_vi: str, reason_en: str
    ) -> tuple[EligibilityResult, timedelta | None]:
        """The cached answer (``source="cache"``, stale past its TTL), else "ask staff"."""
        try:
            entry = self.cache.get(person.id_number)
        except Exception as exc:
            log.error("eligibility cache: get failed (%s)", type(exc).__name__)
            entry = None
        if entry is not None:
            try:
                cached = EligibilityResult.from_json(entry.payload)
            except (ValueError, KeyError, TypeError):
                log.error("eligibility cache: unreadable entry ignored")
            else:
                result = dataclasses.replace(
                    cached, source="cache", stale=bool(entry.stale), as_of=entry.as_of
                )
                return result, entry.age
        return ask_staff(reason_vi, reason_en), None

    def _finish(
        self,
        lookup: _Lookup,
        *,
        method: Method,
        holder: Holder | None,
        authenticity: Authenticity | None,
        chip_verified: bool,
        bhyt_card: BhytCard | None = None,
        read: ReadResult | None = None,
    ) -> CheckInOutcome:
        """Wait for the look-up (the cache answers a slow gateway), journal it, report it."""
        try:
            result, age = lookup.future.result(timeout=self.eligibility_timeout)
        except concurrent.futures.TimeoutError:
            log.warning("check-in %s: gateway too slow, answering from cache", lookup.checkin_id)
            result, age = self._from_cache(
                lookup.person,
                "Cổng BHXH trả lời quá chậm và chưa có kết quả lưu — hỏi nhân viên",
                "BHXH gateway too slow and no saved answer — ask staff",
            )
        phase = "ask_staff" if result.code is None and result.status == "unknown" else "live"
        if result.source == "cache":
            phase = "cache"
        self._emit("eligibility", phase, checkin_id=lookup.checkin_id or None)
        if lookup.pending is not None:  # nothing journaled until the department is chosen
            log.info("check-in (%s): %s from %s, awaiting its department", method,
                     result.status, result.source)  # fmt: skip
            self._emit("done", result.status)
            return CheckInOutcome(
                checkin_id="",
                queue_number=0,
                holder=holder,
                authenticity=authenticity,
                eligibility=result,
                chip_verified=chip_verified,
                method=method,
                cache_age=age,
                bhyt_card=bhyt_card,
                read=read,
                pending=lookup.pending,
            )
        # Journaled at DG13, before the verdict was known. A repeat (the patient's second tap
        # today) only ever adds proof: it never replaces an earlier verified read.
        if authenticity is not None and (chip_verified or not lookup.repeat):
            self.journal.attach_verification(
                lookup.checkin_id, chip_verified=chip_verified, authenticity=authenticity.to_json()
            )
        self.journal.attach_eligibility(lookup.checkin_id, result.to_json())
        log.info(
            "check-in %s: %s from %s%s",
            lookup.checkin_id,
            result.status,
            result.source,
            " (stale)" if result.stale else "",
        )
        self._emit("done", result.status, checkin_id=lookup.checkin_id)
        return CheckInOutcome(
            checkin_id=lookup.checkin_id,
            queue_number=lookup.queue_number,
            holder=holder,
            authenticity=authenticity,
            eligibility=result,
            chip_verified=chip_verified,
            method=method,
            cache_age=age,
            bhyt_card=bhyt_card,
            read=read,
            repeat=lookup.repeat,
            department=lookup.queue.department,
            room=lookup.queue.room,
        )

    # ---- the three ways in -------------------------------------------------------------

    def checkin_card(
        self,
        transport: Transport,
        keys: Sequence[AccessKey],
        *,
        queue: Queue | None = ONE_QUEUE,
        read_photo: bool = True,
        known: Person | None = None,
    ) -> CheckInOutcome:
        """Read and verify the chip, checking eligibility while the rest of the card is read;
        the number is taken in ``queue``.

        ``read_photo`` False skips DG2 (self-check: the patient knows their face; PA then
        lists DG2 as not read). ``known`` is the person the CCCD QR named (the key came from
        it): the eligibility look-up starts at once, before the chip is even opened, and is
        used when DG13 names the same person (else it is dropped and a new one asked).

        Raises what :meth:`ReaderSession.read` raises (wrong key, card removed…) after an
        ``error`` event; a check-in journaled before the failure stays in the journal.
        """
        early = _EarlyLookUp(self._executor.submit(self._look_up, known), known) if known else None
        state: dict[str, Any] = {"dg1": None, "dg13": None, "lookup": None}

        def begin(holder: Holder) -> _Lookup | None:
            """Journal (or hold) the check-in of ``holder`` and start its look-up."""
            person = _person_from(holder)
            if person is None:
                return None
            return self._start(
                person,
                method="chip",
                holder_json=holder.to_json(),
                bhyt_card=None,
                queue=queue,
                early=early,
            )

        def start(dg13: dg13_mod.DG13 | None, dg1: dg1_mod.DG1 | None) -> None:
            state["lookup"] = begin(holder_from(dg13, dg1))

        def on_file(name: str, raw: bytes) -> None:
            if state["lookup"] is not None or name not in _ID_FILES:
                return
            try:
                parsed: Any = (dg13_mod.parse if name == "DG13" else dg1_mod.parse)(raw)
            except EmrtdError:
                return  # the session records the parse error; start from the other file
            state[name.lower()] = parsed
            if name == "DG13":
                start(parsed, state["dg1"])

        def progress(phase: str, done: int, total: int) -> None:
            # A file after DG1 that is not DG13 (DG13 absent): start from the MRZ name.
            if state["lookup"] is None and state["dg1"] is not None and phase not in _ID_FILES:
                start(None, state["dg1"])
            self._emit("reading", phase, done, total)

        session = ReaderSession(
            transport,
            access=self.access,
            progress=progress,
            on_file=on_file,
            trust=self.trust,
            read_dg2=read_photo,
        )
        try:
            result = session.read(keys)
        except BaseException as exc:
            self._emit("error", type(exc).__name__)
            lookup = state["lookup"]
            if lookup is not None:
                lookup.future.cancel()
            if early is not None:
                early.drop()
            raise
        holder = holder_from(result.dg13, result.dg1)
        authenticity = Authenticity.of(result)
        verdict = result.passive_auth.verdict if result.passive_auth else "not_run"
        self._emit("verified", verdict)
        lookup = state["lookup"]
        if lookup is None:
            lookup = begin(holder)
            if lookup is None:
                self._emit("error", "NoIdNumber")
                raise EmrtdError("the card gave no ID number and name (DG13 and DG1 unreadable)")
        if early is not None:
            early.drop()  # not used (another person on the chip): its answer is not shown
        return self._finish(
            lookup,
            method="chip",
            holder=holder,
            authenticity=authenticity,
            chip_verified=authenticity.verified,
            read=result,
        )

    def checkin_bhyt_qr(self, text: str, *, queue: Queue | None = ONE_QUEUE) -> CheckInOutcome:
        """Check in with the BHYT card QR (paper card or VssID); not chip-verified.

        Eligibility is asked by the card number (``maThe``). Raises
        :class:`~kiosk.bhyt_qr.BhytQRError` for an unusable QR (nothing is journaled then).
        """
        card = parse_bhyt_qr(text)
        person = Person(
            id_number=card.card_number,
            full_name=card.full_name,
            date_of_birth=card.date_of_birth,
            birth_year=card.birth_year,
            sex=card.sex,
        )
        holder_json = {
            "id_number": None,
            "full_name": card.full_name,
            "date_of_birth": card.date_of_birth.isoformat() if card.date_of_birth else None,
            "birth_year": card.birth_year,
            "sex": card.sex,
            "place_of_residence": card.address,
        }
        lookup = self._start(
            person,
            method="bhyt_qr",
            holder_json=holder_json,
            bhyt_card=card.card_number,
            queue=queue,
        )
        return self._finish(
            lookup,
            method="bhyt_qr",
            holder=None,
            authenticity=None,
            chip_verified=False,
            bhyt_card=card,
        )

    def checkin_manual(
        self,
        id_number: str,
        full_name: str,
        date_of_birth: date,
        *,
        queue: Queue | None = ONE_QUEUE,
    ) -> CheckInOutcome:
        """Reception mode: a typed 12-digit ID, name and birth date; not chip-verified.

        Raises :class:`AccessKeyError` (``field`` set) for an unusable entry.
        """
        number = "".join(id_number.split())
        if not (len(number) == 12 and number.isascii() and number.isdigit()):
            raise AccessKeyError(
                "ID number: expected the 12 digits of the CCCD number", "id_number"
            )
        name = typed_name(full_name)
        date_of_birth = typed_birth_date(date_of_birth)
        holder = Holder(
            id_number=number,
            full_name=name,
            date_of_birth=date_of_birth,
            sex=None,
            nationality=None,
            ethnicity=None,
            religion=None,
            place_of_origin=None,
            place_of_residence=None,
            identifying_marks=None,
            date_of_issue=None,
            date_of_expiry=None,
            father_name=None,
            mother_name=None,
            spouse_name=None,
            old_id_number=None,
        )
        person = _person_from(holder)
        assert person is not None
        lookup = self._start(
            person, method="manual", holder_json=holder.to_json(), bhyt_card=None, queue=queue
        )
        return self._finish(
            lookup, method="manual", holder=holder, authenticity=None, chip_verified=False
        )

    # ---- the department, chosen after the result ------------------------------------------

    def assign(self, outcome: CheckInOutcome, queue: Queue) -> CheckInOutcome:
        """Journal a pending outcome (read with :data:`CHOOSE_LATER`) in ``queue``: the
        number of that department today — or, with ``repeat`` set, the one this patient
        already has there — with the verification and the eligibility answer attached.

        Raises :class:`ValueError` for an outcome that is not pending (already journaled).
        """
        pending = outcome.pending
        if pending is None:
            raise ValueError("this check-in already has its number")
        record = self.journal.record(
            method=outcome.method,
            chip_verified=False,
            holder=pending.holder_json,
            bhyt_card=pending.bhyt_card,
            reuse_today=True,
            department=queue.department,
            room=queue.room,
        )
        auth = outcome.authenticity
        if auth is not None and (outcome.chip_verified or not record.repeat):
            self.journal.attach_verification(
                record.checkin_id, chip_verified=outcome.chip_verified, authenticity=auth.to_json()
            )
        self.journal.attach_eligibility(record.checkin_id, outcome.eligibility.to_json())
        log.info("check-in %s: journaled (%s) in its chosen queue", record.checkin_id,
                 outcome.method)  # fmt: skip
        return dataclasses.replace(
            outcome,
            checkin_id=record.checkin_id,
            queue_number=record.queue_number,
            repeat=record.repeat,
            department=record.department,
            room=record.room,
            pending=None,
        )
