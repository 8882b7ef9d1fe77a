"""The staff's export of one day's check-ins (``cccd-kiosk export --date D --format csv|json``).

One row per check-in in arrival order, with what reception works from: queue number,
department, the kiosk/desk that checked the patient in (shared database), time,
name, ID number, birth date, method, chip verification and the eligibility answer. The
result is personal data in clear: it is returned to the caller (who writes it where staff
asked), never stored or logged here. Text is UTF-8 with diacritics intact.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any, Literal

from offline_cache.journal import VIETNAM_TZ, CheckInRecord
from offline_cache.port import JournalPort

COLUMNS = (
    "queue_number",
    "department",
    "room",
    "kiosk",
    "time",
    "full_name",
    "id_number",
    "date_of_birth",
    "method",
    "chip_verified",
    "eligibility_status",
    "eligibility_code",
    "valid_from",
    "valid_to",
    "registered_clinic",
    "checkin_id",
)
# A cell starting with one of these is a formula to a spreadsheet ("CSV injection"): a typed
# name in reception mode must not run in the staff's Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def today() -> date:
    """Today in the journal's time zone (Vietnam): the day the queue numbers count in."""
    return datetime.now(VIETNAM_TZ).date()


def row(record: CheckInRecord) -> dict[str, Any]:
    """One check-in as the export's columns (local time of day, ISO dates)."""
    elig = record.eligibility or {}
    return {
        "queue_number": record.queue_number,
        "department": record.department or None,
        "room": record.room or None,
        "kiosk": record.kiosk or None,
        "time": record.created_at.astimezone(VIETNAM_TZ).strftime("%H:%M:%S"),
        "full_name": record.holder.get("full_name"),
        "id_number": record.holder.get("id_number"),
        "date_of_birth": record.holder.get("date_of_birth"),
        "method": record.method,
        "chip_verified": record.chip_verified,
        "eligibility_status": elig.get("status"),
        "eligibility_code": elig.get("code"),
        "valid_from": elig.get("valid_from"),
        "valid_to": elig.get("valid_to"),
        "registered_clinic": elig.get("registered_clinic"),
        "checkin_id": record.checkin_id,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_day(journal: JournalPort, d: date, fmt: Literal["csv", "json"]) -> str:
    """Day ``d`` (local) as CSV (header row, RFC 4180) or a JSON array of objects."""
    rows = [row(r) for r in journal.day(d)]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([_cell(r[c]) for c in COLUMNS])
    return buf.getvalue()
