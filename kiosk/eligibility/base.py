"""The eligibility contract: who is asked about, what comes back, and who can answer.

Every backend (the BHXH gateway, a FHIR server, the offline cache) speaks these types, so the
check-in pipeline and the cache never depend on one gateway's field names. Results carry what
the receptionist needs — a status, the gateway's own code and message, and a sentence in
Vietnamese and English saying what to do next — and nothing more personal than the card data
the gateway returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol, cast

EligibilityStatus = Literal["eligible", "not_eligible", "unknown"]
ResultSource = Literal["live", "cache"]

_STATUSES: tuple[str, ...] = ("eligible", "not_eligible", "unknown")
_SOURCES: tuple[str, ...] = ("live", "cache")


@dataclass(frozen=True)
class Person:
    """The patient as the gateway is asked about them.

    ``id_number`` is the 12-digit CCCD number (or, for a BHYT QR check-in, the card's
    ``maThe``); ``full_name`` is NFC with diacritics kept, as printed on the card. When only
    the birth year is known, ``date_of_birth`` is None and ``birth_year`` is set.
    """

    id_number: str
    full_name: str
    date_of_birth: date | None
    birth_year: int | None = None
    sex: str | None = None  # "Nam" / "Nữ"

    def __repr__(self) -> str:
        # Personal data never ends up in logs or tracebacks by accident.
        return "Person(<redacted>)"


@dataclass(frozen=True)
class EligibilityResult:
    """One answer to "is this patient's BHYT valid here, today?".

    ``code`` is the gateway's ``maKetQua`` (None when no gateway answered), ``message`` its
    ``ghiChu``; ``advice_vi``/``advice_en`` say what staff should do next. ``as_of`` is when the
    answer was obtained (UTC, aware); ``source``/``stale`` tell a cached answer from a live one.
    """

    status: EligibilityStatus
    code: str | None
    message: str | None
    advice_vi: str
    advice_en: str
    valid_from: date | None
    valid_to: date | None
    registered_clinic: str | None
    card_number: str | None
    as_of: datetime
    source: ResultSource = "live"
    stale: bool = False

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"unknown eligibility status {self.status!r}")
        if self.source not in _SOURCES:
            raise ValueError(f"unknown result source {self.source!r}")
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (dates and datetimes ISO 8601); ``from_json`` restores it exactly."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "advice_vi": self.advice_vi,
            "advice_en": self.advice_en,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "registered_clinic": self.registered_clinic,
            "card_number": self.card_number,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "stale": self.stale,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EligibilityResult:
        """Rebuild a result written by ``to_json`` (raises ValueError/KeyError when malformed)."""

        def _date(v: Any) -> date | None:
            return date.fromisoformat(v) if v is not None else None

        return cls(
            status=cast(EligibilityStatus, d["status"]),
            code=d.get("code"),
            message=d.get("message"),
            advice_vi=d["advice_vi"],
            advice_en=d["advice_en"],
            valid_from=_date(d.get("valid_from")),
            valid_to=_date(d.get("valid_to")),
            registered_clinic=d.get("registered_clinic"),
            card_number=d.get("card_number"),
            source=cast(ResultSource, d.get("source", "live")),
            as_of=datetime.fromisoformat(d["as_of"]),
            stale=bool(d.get("stale", False)),
        )


class EligibilityBackend(Protocol):
    """Anything that can answer an eligibility question (BHXH gateway, FHIR server, …).

    ``check`` returns a result for every answer the backend gives (including "not found" or
    "name mismatch"); it raises ``kiosk.eligibility.errors.GatewayUnavailable`` when no answer
    could be had, so the caller can fall back to the cache.
    """

    def check(self, person: Person) -> EligibilityResult: ...


def ask_staff(reason_vi: str, reason_en: str, *, now: datetime | None = None) -> EligibilityResult:
    """The "ask staff" answer: status unknown, no gateway code, the reason as the advice."""
    return EligibilityResult(
        status="unknown",
        code=None,
        message=None,
        advice_vi=reason_vi,
        advice_en=reason_en,
        valid_from=None,
        valid_to=None,
        registered_clinic=None,
        card_number=None,
        as_of=now if now is not None else datetime.now(UTC),
    )
