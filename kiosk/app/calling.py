"""What the calling display shows, as one JSON document: numbers, departments and rooms only.

:func:`board_document` turns the storage's :class:`offline_cache.calls.Board` into the
document ``/api/board`` serves and ``/events`` pushes — department names in Vietnamese and
English from ``[[departments]]``, the numbers being served (with the desk that called them),
the next waiting ones, and the latest announcements. Nothing in it comes from a check-in's
sealed data: no name, no ID number, no photo, no address can reach the display.

:func:`announcement_text` is the sentence the voice speaks for a call.
"""

from __future__ import annotations

from typing import Any

from kiosk.config import Department
from offline_cache.calls import Board, Called


def announcement_text(number: int, room: str, language: str = "vi") -> str:
    """ "Mời số 15 đến phòng 203" (or, without a room, "Mời số 15"); English on request."""
    if language == "en":
        return f"Number {number}, please go to room {room}" if room else f"Number {number}, please"
    return f"Mời số {number} đến phòng {room}" if room else f"Mời số {number}"


def _call(c: Called) -> dict[str, Any]:
    return {
        "department": c.department,
        "number": c.number,
        "room": c.room,
        "desk": c.desk,
        "called_at": c.called_at.isoformat(),
        "seq": c.announce_seq,
        "announcements": c.announcements,
    }


def board_document(
    board: Board, departments: tuple[Department, ...], *, voice: bool = False
) -> dict[str, Any]:
    """The display's JSON: configured departments first (in their order, even with nobody
    waiting; none configured: the clinic's one queue), then any other department code seen
    in the day's check-ins."""
    known = {d.code.upper(): d for d in departments}
    by_code = {d.department: d for d in board.departments}
    # no [[departments]]: the clinic's one queue (code "") is always on the board
    first = [d.code.upper() for d in departments] or [""]
    order = first + sorted(c for c in by_code if c not in known and c not in first)
    out = []
    for code in order:
        conf = known.get(code)
        entry = by_code.get(code)
        room = (entry.room if entry and entry.room else "") or (conf.room if conf else "")
        out.append(
            {
                "code": code,
                "name_vi": conf.name_vi if conf else (code or "Phòng khám"),
                "name_en": (conf.name_en or conf.name_vi) if conf else (code or "Clinic"),
                "room": room,
                "serving": [_call(c) for c in entry.serving] if entry else [],
                "next": list(entry.next_numbers) if entry else [],
                "waiting": entry.waiting if entry else 0,
            }
        )
    return {
        "day": board.day.isoformat(),
        "version": board.version,
        "voice": voice,
        "departments": out,
        "announcements": [_call(c) for c in board.announcements],
    }
