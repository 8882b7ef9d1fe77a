"""The department choice as the screens show it: one button per department, Qt-free.

:func:`department_buttons` turns the application layer's
:class:`kiosk.app.departments.DepartmentOption` values into :class:`DepartmentButton` views
in the kiosk's language: the name and room, a note (the number the patient already has
there, "closed now", "at the desk"), and whether it can be pressed. Self-check hides the
departments the patient must register for at the desk and disables closed ones; reception
(staff choosing for the patient) can press every one. Nothing personal is in a button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.app.departments import DepartmentOption
from ui.strings import Lang, t


@dataclass(frozen=True)
class DepartmentButton:
    """One department's button: ``label`` (name and room), ``note`` (may be ""), ``enabled``."""

    code: str
    label: str
    note: str
    enabled: bool


def place_text(name: str, room: str, lang: Lang) -> str:
    """ "Khám Nội — Phòng 203" (the name alone when the room is not configured)."""
    return f"{name} — {t('dept.room', lang, room=room)}" if room else name


def department_buttons(
    options: Sequence[DepartmentOption], lang: Lang, *, self_check: bool
) -> tuple[DepartmentButton, ...]:
    """The buttons of ``options`` in ``lang`` (see the module docstring)."""
    out = []
    for o in options:
        d = o.department
        if self_check and not o.allowed:
            continue  # not offered: the patient registers there at the desk
        notes = []
        if o.existing is not None:
            room = t("dept.room", lang, room=o.existing_room) if o.existing_room else ""
            notes.append(t("dept.existing", lang, n=o.existing, room=room).rstrip(" —"))
        if not o.open:
            notes.append(t("dept.closed", lang, hours=d.open_hours.replace("-", "–")))
        label = place_text(d.name(lang), d.room, lang)
        # reception: staff may choose any department for the patient (the notes still say
        # "closed"); the options come with self-check's rules, which bind patients only
        enabled = o.offered if self_check else True
        out.append(DepartmentButton(d.code, label, " · ".join(notes), enabled))
    return tuple(out)


def desk_only(options: Sequence[DepartmentOption], lang: Lang) -> str:
    """The line naming the departments this patient registers for at the desk ("" if none)."""
    names = [o.department.name(lang) for o in options if not o.allowed]
    return t("dept.desk_only", lang, names=", ".join(names)) if names else ""
