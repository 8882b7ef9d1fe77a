"""What a queue ticket says: the hospital, the department and room, the number, the time,
the health-insurance answer in words, and the check-in id for the desk's scanner.

Privacy: a ticket is left on counters and dropped in corridors. It carries no ID number, no
name and no address — only what gets the patient to the right room and lets the desk find
the check-in (the QR of the check-in id).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

#: Longest text printed on one line of a ticket (a hospital or department name).
MAX_TEXT = 80

#: The insurance answer as the ticket words it (Vietnamese first, English second).
STATUS_WORDS = {
    "eligible": ("BHYT: hợp lệ", "Health insurance: valid"),
    "not_eligible": ("BHYT: không hợp lệ — hỏi quầy", "Health insurance: not valid — ask the desk"),
    "unknown": ("BHYT: chưa rõ — hỏi quầy", "Health insurance: unknown — ask the desk"),
}


class TicketError(Exception):
    """A ticket that cannot be made (a missing font, text that cannot be printed)."""


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    clean = "".join(
        c for c in unicodedata.normalize("NFC", value) if unicodedata.category(c)[0] != "C"
    )
    clean = " ".join(clean.split())[:MAX_TEXT]
    return clean or None


@dataclass(frozen=True)
class Ticket:
    """One queue ticket. ``eligibility`` is ``eligible``, ``not_eligible`` or ``unknown``."""

    hospital: str
    queue_number: int
    checkin_id: str
    issued_at: datetime
    eligibility: str
    department_vi: str | None = None
    department_en: str | None = None
    room: str | None = None

    def __post_init__(self) -> None:
        if self.eligibility not in STATUS_WORDS:
            raise TicketError(f"eligibility must be one of {', '.join(STATUS_WORDS)}")
        if not 0 < self.queue_number < 100_000:
            raise TicketError("queue number out of range")
        if not self.checkin_id or len(self.checkin_id) > 64 or not self.checkin_id.isascii():
            raise TicketError("check-in id must be 1 to 64 ASCII characters")
        for name in ("hospital", "department_vi", "department_en", "room"):
            object.__setattr__(self, name, _text(getattr(self, name)))
        if not self.hospital:
            raise TicketError("the hospital's name is needed")

    @property
    def status_words(self) -> tuple[str, str]:
        """The insurance answer in Vietnamese and English."""
        return STATUS_WORDS[self.eligibility]
