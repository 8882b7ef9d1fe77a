"""One progress bar for the whole chip read, in words a patient understands.

The reader reports progress per step and per file (``phase``, bytes done, bytes of that
file: :class:`kiosk.checkin.CheckInEvent`), so a bar drawn from those numbers restarts at
zero for every file and its labels are ICAO names ("PACE", "DG13", "select"). A patient
needs one bar that only moves forward and a sentence about what is happening to *their*
card. :func:`advance` folds each event into a single percentage along the read's usual
order, weighted by the usual time each step takes (the photo is most of the bytes);
:func:`stage_words` says the step in words. Staff (reception) may additionally see the
technical step name (:func:`ui.strings.phase_label`), never byte counts.

Qt-free and stateless, so the state machine (:mod:`ui.state`) keeps the only state: the last
percentage, which never goes back.
"""

from __future__ import annotations

from typing import Final, Literal

from ui.strings import Lang, t

#: What the patient is told, by kind of step (``progress.*`` strings).
Stage = Literal["connect", "read", "photo", "check"]

#: (start %, end %, stage) of each step the reader reports, in the order a read does them.
#: The photo (DG2, ~10–40 KB) takes most of a read at NFC speeds; the other files are a few
#: hundred bytes each; the cryptographic checks are fast but come last.
STEPS: Final[dict[str, tuple[int, int, Stage]]] = {
    "EF.CardAccess": (0, 3, "connect"),
    "PACE": (3, 14, "connect"),
    "BAC": (3, 14, "connect"),
    "select": (14, 15, "connect"),
    "EF.SOD": (15, 21, "read"),
    "EF.COM": (21, 23, "read"),
    "DG1": (23, 25, "read"),
    "DG2": (25, 78, "photo"),
    "DG13": (78, 86, "read"),
    "DG14": (86, 89, "read"),
    "DG15": (89, 91, "read"),
    "CA": (91, 95, "check"),
    "AA": (95, 98, "check"),
    "PA": (98, 100, "check"),
}


def advance(previous: int, phase: str, done: int, total: int) -> int:
    """The whole read's percentage after the event (``phase``, ``done``, ``total``).

    Never less than ``previous`` (a retried key or an unknown file leaves the bar where it
    is), never more than 100; within a step it moves with the bytes of that step's file.
    """
    step = STEPS.get(phase)
    if step is None:
        return max(0, min(previous, 100))
    start, end, _ = step
    fraction = min(max(done, 0), total) / total if total > 0 else 0.0
    return max(previous, min(100, start + round((end - start) * fraction)))


def stage_of(phase: str) -> Stage | None:
    """The kind of step ``phase`` is (None: one the kiosk does not know)."""
    step = STEPS.get(phase)
    return step[2] if step is not None else None


def stage_words(stage: Stage | None, lang: Lang) -> str:
    """What the patient reads under the bar ("Đang đọc ảnh chân dung…")."""
    return t(f"progress.{stage or 'read'}", lang)
