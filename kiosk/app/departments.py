"""Which departments a patient may choose, and the number they already have in each.

The Qt kiosk asks this after the result, before any number is taken
(:data:`kiosk.checkin.CHOOSE_LATER`). One rule for every front-end:

* a department closed now (``open_hours``, local Vietnam time) is shown but cannot be
  chosen in self-check — reception may still choose it (staff know who is on duty);
* in self-check, a patient whose BHYT is valid (``eligible``: they will be seen on their
  insurance) is not offered a department with ``bhyt_self = false`` — those need the desk
  (a referral, a paper check); reception offers every department;
* a patient who already has a number today in a department is told so on its button
  ("Bạn đã có số 15 — Phòng 203") and may still choose another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.checkin import CheckInOutcome
from kiosk.config import Department


@dataclass(frozen=True)
class DepartmentOption:
    """One department as the choice screen shows it."""

    department: Department
    #: Open at the time asked (``open_hours``).
    open: bool
    #: Allowed for this patient in this mode (the ``bhyt_self`` rule; always in reception).
    allowed: bool = True
    #: The number this patient already has there today (None: none yet) and its room.
    existing: int | None = None
    existing_room: str = ""
    #: Asked for self-check (closed departments cannot be chosen) or reception (they can).
    self_check: bool = True

    @property
    def code(self) -> str:
        return self.department.code

    @property
    def offered(self) -> bool:
        """Whether the button can be pressed."""
        return self.allowed and (self.open or not self.self_check)


def uses_bhyt(outcome: CheckInOutcome) -> bool:
    """Whether the patient is seen on their insurance: the gateway (or the cache) says the
    BHYT card is valid."""
    return outcome.eligibility.status == "eligible"


def department_options(
    departments: tuple[Department, ...],
    outcome: CheckInOutcome,
    *,
    self_check: bool,
    at: datetime,
    existing: dict[str, tuple[int, str]] | None = None,
) -> tuple[DepartmentOption, ...]:
    """Every configured department, in the configured order, with what this patient may do
    there at local time ``at`` (see the module docstring); ``existing`` is
    :meth:`offline_cache.journal.Journal.numbers_today` of the patient."""
    known = existing or {}
    insured = uses_bhyt(outcome)
    out = []
    for d in departments:
        is_open = d.is_open(at.time())
        allowed = not (self_check and insured and not d.bhyt_self)
        number, room = known.get(d.code.upper(), (None, ""))
        out.append(
            DepartmentOption(
                d,
                open=is_open,
                allowed=allowed,
                existing=number,
                existing_room=room or d.room,
                self_check=self_check,
            )
        )
    return tuple(out)
