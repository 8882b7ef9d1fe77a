"""The kiosk's view-model: a Qt-free state machine and what each screen shows.

States: ``idle`` → ``key_needed`` → ``reading`` → ``verifying`` → ``result`` → ``idle``, and
``error`` (every error says what to do next). With several departments the check-in comes
back *pending* (nothing journaled): self-check shows ``department`` (large buttons) before
``result``, reception a selector on the result; :meth:`KioskState.choose_department` returns
the :class:`AssignNumber` that takes the number. The widgets only render :meth:`KioskState.view`
and forward user and worker events here; the methods that need the worker to do something
return an :class:`Action` (:class:`StartRead` or :class:`StartBhyt`).

Personal data lives only in ``KioskState._outcome`` while the result is shown; :meth:`wipe`
drops it (card removal in self-check mode, idle timeout, the next patient). Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias

from kiosk.app.messages import GENERIC
from kiosk.cccd import access
from kiosk.config import clinic_label
from ui.departments import DepartmentButton, department_buttons, desk_only, place_text
from ui.progress import advance, stage_of, stage_words
from ui.strings import DEFAULT_LANG, LANGS, Lang, phase_label, t, trust_text

if TYPE_CHECKING:
    from kiosk.app.departments import DepartmentOption
    from kiosk.app.messages import UserMessage
    from kiosk.checkin import CheckInEvent, CheckInOutcome
    from kiosk.config import Department

Screen = Literal[
    "idle",
    "key_needed",
    "reading",
    "verifying",
    "result",
    "error",
    "today",
    "manual",
    "pin",
    "settings",
    "number",
    "birth_date",
    "department",
]
Mode = Literal["reception", "self"]
MODES: tuple[Mode, ...] = ("reception", "self")
BadgeKind = Literal["verified", "issuer_unknown", "failed", "not_chip"]

#: Seconds of no activity before a shown result or error is wiped (self-check default).
DEFAULT_IDLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class StartRead:
    """Ask the worker to read the card in the field with these access keys; ``photo`` False
    skips DG2 (self-check); ``known`` is the CCCD QR the key came from (the eligibility
    look-up starts from it before the chip is read)."""

    keys: tuple[access.AccessKey, ...]
    photo: bool = True
    known: access.CCCDQRData | None = None

    def __repr__(self) -> str:
        return f"StartRead({len(self.keys)} keys, photo={self.photo})"  # no personal data


@dataclass(frozen=True)
class StartBhyt:
    """Ask the worker to check in with a BHYT card QR (no chip)."""

    text: str


@dataclass(frozen=True)
class StartManual:
    """Ask the worker to check in with a typed ID, name and birth date (reception; no chip)."""

    id_number: str
    full_name: str
    date_of_birth: date

    def __repr__(self) -> str:
        return "StartManual(<personal data>)"


@dataclass(frozen=True)
class AssignNumber:
    """Ask the worker to take the pending check-in's number in department ``code``."""

    outcome: CheckInOutcome
    code: str

    def __repr__(self) -> str:
        return f"AssignNumber({self.code!r}, <personal data>)"


@dataclass(frozen=True)
class DecideAuthenticity:
    """Ask the worker to journal reception's decision on a card that failed its checks."""

    checkin_id: str
    accepted: bool


Action: TypeAlias = StartRead | StartBhyt | StartManual | AssignNumber | DecideAuthenticity


def parse_birth_date(text: str) -> date | None:
    """A typed birth date: ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``ddmmyyyy`` or ISO
    ``yyyy-mm-dd``; None when it is not a real date, or in the future."""
    value = text.strip()
    try:
        if len(value) == 10 and value[4] == "-":
            d = date.fromisoformat(value)
        else:
            parts = value.replace("-", "/").replace(".", "/").split("/")
            if len(parts) == 1 and len(value) == 8 and value.isdigit():
                parts = [value[:2], value[2:4], value[4:]]
            if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
                return None
            if len(parts[2]) != 4:
                return None
            d = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None
    return d if d.year >= 1900 and d <= date.today() else None


def _id_in(text: str) -> str | None:
    """The 12-digit ID number in a typed ID or a scanned CCCD QR, else None."""
    value = text.strip()
    digits = "".join(value.split())
    if len(digits) == 12 and digits.isascii() and digits.isdigit():
        return digits
    if access.detect_input(value) == "cccd_qr":
        try:
            return access.parse_cccd_qr(value).id_number
        except access.AccessKeyError:
            return None
    return None


@dataclass(frozen=True)
class ScreenView:
    """Everything one screen shows, as text in the current language (plus the photo bytes)."""

    screen: Screen
    title: str
    body: str = ""
    progress: tuple[str, int, int] | None = None
    photo: bytes | None = None
    lines: tuple[tuple[str, str], ...] = ()
    badge: str = ""
    badge_kind: BadgeKind | None = None
    eligibility: tuple[str, ...] = ()
    eligibility_status: str | None = None
    queue: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    #: The department buttons (``department`` screen; reception's result selector).
    choices: tuple[DepartmentButton, ...] = ()


#: What self-check's result keeps in large-text mode: holder lines, eligibility lines.
LARGE_LINES = 2
LARGE_ELIGIBILITY = 2


def mask_id(number: str | None) -> str:
    """An ID number with all but its last 4 digits hidden ("••••••••4517")."""
    if not number:
        return ""
    return "•" * max(0, len(number) - 4) + number[-4:]


def format_age(age: timedelta, lang: Lang) -> str:
    """A cached answer's age in words: "3 giờ" / "3 h"."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 120:
        return t("age.min", lang, n=minutes)
    hours = minutes // 60
    return t("age.h", lang, n=hours) if hours < 48 else t("age.d", lang, n=hours // 24)


def _date(value: date | None, lang: Lang) -> str:
    if value is None:
        return ""
    return f"{value:%d/%m/%Y}" if lang == "vi" else value.isoformat()


#: The screens of one patient's check-in: leaving them in self-check ends that patient.
_PATIENT_SCREENS = frozenset(
    {"key_needed", "reading", "verifying", "result", "error", "number", "department", "birth_date"}
)
#: The screens after a check-in where a card still on the reader is reminded.
_REMINDER_SCREENS = frozenset({"result", "number"})


class KioskState:
    """The state machine. ``on_change`` is called after every change (the window re-renders)."""

    def __init__(
        self,
        *,
        mode: Mode = "self",
        lang: Lang = DEFAULT_LANG,
        on_change: Callable[[], None] | None = None,
        clinic_names: dict[str, str] | None = None,
        large_text: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}")
        self.mode: Mode = mode
        #: The configured mode: a switch made in the settings lasts until the idle timeout.
        self.home_mode: Mode = mode
        self.lang: Lang = lang
        #: The configured language: a patient's switch lasts until the next patient.
        self.home_lang: Lang = lang
        #: Large, high-contrast text (accessibility); a patient's choice lasts until the next.
        self.large_text = large_text
        self.home_large_text = large_text
        self.on_change = on_change
        #: BHYT clinic code → name (``[[clinics]]``), so the registered clinic has a name.
        self.clinic_names: dict[str, str] = dict(clinic_names or {})
        self.screen: Screen = "idle"
        self.card_in_field = False
        self.key_message = ""
        self.error: UserMessage | None = None
        #: What is wrong with the reader right now (from the reader watcher), else None.
        self.reader_fault: UserMessage | None = None
        #: The ticket of the check-in shown: None (no printer), "printing", "printed", or the
        #: printer problem's message.
        self.ticket: str | UserMessage | None = None
        #: The queue number kept on screen after a self-check patient took the card away.
        self._number: int | None = None
        self._progress: tuple[str, int, int] | None = None
        self._keys: tuple[access.AccessKey, ...] | None = None
        self._outcome: CheckInOutcome | None = None
        #: Answers still to come from check-ins whose card left during the look-up: dropped,
        #: so a patient who walked away never has their name and photo shown to the next.
        self._abandoned = 0
        #: Whether the running check-in reads the card in the field (not a BHYT QR scan).
        self._card_job = False
        #: The patient's ID number when they typed or scanned it (a BAC-only card's MRZ key
        #: needs it with the birth date); wiped with everything else.
        self._id_hint: str | None = None
        #: Whether the running read uses keys from the birth-date entry.
        self._birth_keys = False
        # ---- the department choice (pending outcomes) ----
        #: What the choice offers this patient (from the worker, with the pending outcome).
        self._options: tuple[DepartmentOption, ...] = ()
        #: A number is being taken (AssignNumber sent, its outcome not back yet).
        self._assigning = False
        #: The room and department of the number kept on screen after the card left.
        self._place = ""
        #: The configured departments (their names in both languages; set by the window).
        self.departments: tuple[Department, ...] = ()
        #: The CCCD QR the pending keys came from (personal data: wiped with them).
        self._known: access.CCCDQRData | None = None
        #: Reception's decision on the failed card shown (None: none yet).
        self._decision: bool | None = None
        #: Whether self-check reads the photo too (``[ui] self_check_photo``).
        self.self_check_photo = False

    # ---- transitions ---------------------------------------------------------------------

    def _go(self, screen: Screen) -> None:
        self.screen = screen
        if self.on_change is not None:
            self.on_change()

    @property
    def busy(self) -> bool:
        """Whether the worker is running a check-in (reading or verifying)."""
        return self.screen in ("reading", "verifying")

    def card_present(self, keys: Sequence[access.AccessKey] | None = None) -> Action | None:
        """A card entered the field (``keys`` when the tester or a scan already gave them)."""
        if self.busy:
            return None
        self.reader_fault = None  # a card arrived: the reader works
        if self.screen in ("result", "error", "number", "department"):  # the previous patient
            self.wipe(notify=False)
        self.card_in_field = True
        if keys:
            self._keys = tuple(keys)
        if self._keys:
            return self._start_read()
        self.key_message = ""
        self._go("key_needed")
        return None

    def _start_read(self) -> Action:
        keys, self._keys = self._keys or (), None
        known, self._known = self._known, None
        self._progress = None
        self._card_job = True
        self._go("reading")
        # Self-check needs no photo (faster); reception compares the face.
        return StartRead(keys, photo=self.mode == "reception" or self.self_check_photo, known=known)

    def submit_key(self, text: str) -> Action | None:
        """A typed CAN/ID or a scanned CCCD QR / MRZ on the key screen (or idle)."""
        found = access.keys_from_text(text)
        keys = tuple(found) if found else None
        if keys is None:
            self.key_message = t("key.invalid", self.lang)
            self._go(self.screen)
            return None
        self._keys = keys
        self._known = None
        if access.detect_input(text) == "cccd_qr":  # it names the person: ask BHXH at once
            try:
                self._known = access.parse_cccd_qr(text)
            except access.AccessKeyError:
                self._known = None
        self.key_message = ""
        self._id_hint = _id_in(text)
        self._birth_keys = False
        if self.card_in_field:
            return self._start_read()
        self._go("key_needed")
        return None

    def submit_birth(self, text: str) -> Action | None:
        """One step of a BAC-only card's entry: the 12-digit ID (when not known), then the
        birth date; with both, read the card with the MRZ keys they give."""
        if self.screen != "birth_date":
            return None
        value = "".join(text.split())
        if self._id_hint is None:
            if not (len(value) == 12 and value.isascii() and value.isdigit()):
                self.key_message = t("birth.invalid_id", self.lang)
            else:
                self._id_hint, self.key_message = value, ""
            self._go("birth_date")
            return None
        dob = parse_birth_date(value)
        if dob is None:
            self.key_message = t("birth.invalid_dob", self.lang)
            self._go("birth_date")
            return None
        try:
            keys = access.keys_from_id_and_birth(self._id_hint, dob)
        except access.AccessKeyError:
            self._id_hint = None
            self.key_message = t("birth.invalid_id", self.lang)
            self._go("birth_date")
            return None
        # the CAN already failed on this chip (it has no PACE): only the MRZ keys
        self._keys = tuple(k for k in keys if not isinstance(k, access.CAN)) or tuple(keys)
        self.key_message = ""
        self._birth_keys = True
        if self.card_in_field:
            return self._start_read()
        self.wipe()  # the card left: start over
        return None

    def scan(self, text: str) -> Action | None:
        """One keyboard-wedge line (a QR scanner types it, then Enter) on any screen but busy."""
        if self.busy:
            return None
        if access.detect_input(text) == "bhyt_qr":
            self.wipe(notify=False)
            self._progress = None
            self._card_job = False
            self._go("verifying")
            return StartBhyt(text.strip())
        if self.screen in ("result", "error", "department"):
            self.wipe(notify=False)
        return self.submit_key(text)

    # ---- reception and operator screens ----------------------------------------------------

    def _open(self, screen: Screen) -> bool:
        if self.busy:
            return False
        self.wipe(notify=False)
        self._go(screen)
        return True

    def open_today(self) -> bool:
        """Reception: today's check-ins (journal). False when busy or in self-check mode."""
        return self.mode == "reception" and self._open("today")

    def open_manual(self) -> bool:
        """Reception: manual entry when a chip cannot be read."""
        return self.mode == "reception" and self._open("manual")

    def submit_manual(self, id_number: str, full_name: str, birth_date: str) -> Action | None:
        """Check a manual entry; the action to run, or None with :attr:`key_message` set."""
        if self.screen != "manual":
            return None
        number = "".join(id_number.split())
        name = " ".join(full_name.split())
        dob = parse_birth_date(birth_date)
        problem = None
        if not (len(number) == 12 and number.isascii() and number.isdigit()):
            problem = "manual.invalid_id"
        elif not name:
            problem = "manual.invalid_name"
        elif dob is None:
            problem = "manual.invalid_dob"
        if problem is not None or dob is None:
            self.key_message = t(problem or "manual.invalid_dob", self.lang)
            self._go("manual")
            return None
        self.key_message = ""
        self._progress = None
        self._go("verifying")
        return StartManual(number, name, dob)

    def open_pin(self) -> bool:
        """The operator PIN prompt in front of the settings."""
        return self._open("pin")

    def pin_refused(self, message: str) -> None:
        """A wrong PIN (or locked): stay on the prompt with ``message``."""
        if self.screen == "pin":
            self.key_message = message
            self._go("pin")

    def open_settings(self) -> None:
        """The right PIN was typed: show the settings."""
        if self.screen == "pin":
            self.key_message = ""
            self._go("settings")

    def set_mode(self, mode: Mode) -> None:
        """Switch self-check ↔ reception (from the settings; anything shown is wiped)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        screen = self.screen
        self.wipe(notify=False)
        self.mode = mode
        self._go("settings" if screen == "settings" else "idle")

    def cancel(self) -> None:
        """Back to idle from the key screen, an error or a result (wipes)."""
        if not self.busy:
            self.wipe()

    def _needs_birth_date(self, message: UserMessage) -> bool:
        if self.mode != "self" or not self.card_in_field or not self._card_job:
            return False
        if message.key == "unsupported_protocol":  # a CAN on a BAC-only chip
            return True
        return self._birth_keys and message.key == "access_denied"

    def retry(self) -> None:
        """The error screen's "Thử lại / Try again". The card still on the reader after its
        check-in failed (a wrong CAN, a key the chip refused): the key screen opens again for
        it — the patient never has to lift and re-place the card. Else: back to idle."""
        if self.busy:
            return
        card_error = self.error is not None and self.error is not self.reader_fault
        if self.screen == "error" and self.card_in_field and self._card_job and card_error:
            self.error = None
            self._keys = None
            self.key_message = ""
            self._go("key_needed")
            return
        self.wipe()

    def on_event(self, event: CheckInEvent) -> None:
        """A pipeline progress event (from the worker, on the GUI thread)."""
        if not self.busy:
            return
        if event.kind == "reading":  # one bar for the whole read (ui.progress)
            before = self._progress[1] if self._progress is not None else 0
            self._progress = (
                event.phase,
                advance(before, event.phase, event.done, event.total),
                100,
            )
            self._go("reading")
        elif event.kind == "verified" or (event.kind == "eligibility" and self.screen != "reading"):
            self._go("verifying")

    def on_outcome(self, outcome: CheckInOutcome) -> bool:
        """The check-in finished: show the result (kept until removal / timeout / next),
        unless its card was taken away during the look-up (then it is dropped: False, and
        no ticket is printed for it)."""
        if self._abandoned:
            self._abandoned -= 1
            return False
        assigned, self._assigning = self._assigning, False
        self._outcome = outcome
        self._decision = None
        self._progress = None
        self.ticket = None
        if assigned and self.mode == "self" and not self.card_in_field and self._card_job:
            self._to_number(outcome)  # the card left while the number was being taken
            return True  # the patient chose and holds the number: the ticket prints
        self._go("result")
        return True

    # ---- reception's decision on a card that failed its checks ------------------------------

    @property
    def needs_decision(self) -> bool:
        """Reception shows a journaled check-in whose card failed its checks, undecided."""
        out = self._outcome
        return (
            self.mode == "reception"
            and self.screen == "result"
            and out is not None
            and bool(out.checkin_id)
            and out.authenticity is not None
            and out.authenticity.failure() not in (None, "unknown_issuer")
            and self._decision is None
        )

    def decide(self, accepted: bool) -> Action | None:
        """Staff accept (papers checked) or refuse the failed card shown; the action journals
        it (nothing when there is nothing to decide)."""
        if not self.needs_decision or self._outcome is None:
            return None
        self._decision = accepted
        self._go(self.screen)
        return DecideAuthenticity(self._outcome.checkin_id, accepted)

    @property
    def shown_checkin(self) -> str | None:
        """The id of the check-in whose result is shown (None: no result shown)."""
        if self.screen != "result" or self._outcome is None:
            return None
        return self._outcome.checkin_id or None

    @property
    def decision(self) -> bool | None:
        """The decision taken on the result shown (None: none yet)."""
        return self._decision

    # ---- the department choice ------------------------------------------------------------

    def on_choice(self, outcome: CheckInOutcome, options: Sequence[DepartmentOption]) -> None:
        """A pending check-in (several departments, nothing journaled): self-check shows the
        department buttons (a card that failed its checks goes to the desk instead: no
        choice, no number); reception shows the result with a selector."""
        if self._abandoned:
            self._abandoned -= 1
            return
        self._outcome = outcome
        self._options = tuple(options)
        self._progress = None
        self.ticket = None
        failed = outcome.authenticity is not None and outcome.authenticity.failed
        self._go("department" if self.mode == "self" and not failed else "result")

    def choose_department(self, code: str) -> Action | None:
        """The patient (or staff, for the patient) chose ``code``: take the number. None when
        nothing is pending, a number is already being taken, or ``code`` cannot be chosen
        here (closed, or for the desk, in self-check)."""
        out = self._outcome
        if out is None or not out.is_pending or self._assigning:
            return None
        if self.screen not in ("department", "result"):
            return None
        buttons = department_buttons(self._options, self.lang, self_check=self.mode == "self")
        if not any(b.code == code and b.enabled for b in buttons):
            return None
        self._assigning = True
        self._go(self.screen)
        return AssignNumber(out, code)

    def _to_number(self, out: CheckInOutcome) -> None:
        """Wipe the personal data, keep the number (and its room) large on screen."""
        number, ticket, lang, large = out.queue_number, self.ticket, self.lang, self.large_text
        place = self._place_of(out)
        self.wipe(notify=False)
        self._number, self.ticket, self.lang, self._place = number, ticket, lang, place
        self.large_text = large
        self._go("number")

    def _place_of(self, out: CheckInOutcome) -> str:
        """ "Khám Nội — Phòng 203" of an assigned outcome ("" for the one queue)."""
        if not out.department:
            return ""
        name = next(
            (d.name(self.lang) for d in self.departments if d.code.upper() == out.department),
            out.department,
        )
        return place_text(name, out.room, self.lang)

    def on_error(self, message: UserMessage) -> None:
        """The check-in failed: show ``message`` (from :func:`kiosk.app.messages.message_for`:
        what happened and what to do next, in the kiosk's language). In self-check, a card
        on the reader that needs an MRZ key (BAC only) gets the birth-date entry instead."""
        if self._abandoned:
            self._abandoned -= 1
            return
        self._assigning = False
        if self._needs_birth_date(message):
            self._progress = None
            if self._birth_keys:  # the typed ID or birth date did not open it: type again
                self.key_message = t("birth.refused", self.lang)
                self._id_hint = None
            else:
                self.key_message = ""
            self._birth_keys = False
            self._go("birth_date")
            return
        self._outcome = None
        self._progress = None
        self.error = message
        self._go("error")

    def on_reader_problem(self, message: UserMessage) -> None:
        """The reader cannot be used (unplugged, pcscd stopped, no frontend): say so — with
        what to do — instead of the idle screen, until :meth:`on_reader_ready`. A result being
        shown, a check-in running or a staff screen is not interrupted."""
        self.reader_fault = message
        if self.screen in ("idle", "key_needed", "error"):
            self.on_error(message)

    def on_reader_ready(self) -> None:
        """The reader works again: leave its error screen."""
        fault, self.reader_fault = self.reader_fault, None
        if fault is not None and self.screen == "error" and self.error == fault:
            self.wipe()

    def card_removed(self) -> None:
        """The card left the field. Self-check wipes a shown result's personal data at once but
        keeps the queue number large on screen (``number``) until :meth:`number_timeout`, so
        the patient leaves with it even when no ticket printed; reception keeps the result
        for the receptionist until the idle timeout or the next patient."""
        was_in_field, self.card_in_field = self.card_in_field, False
        out = self._outcome
        if self.screen == "verifying" and self.mode == "self" and was_in_field and self._card_job:
            # The chip was read, the insurance look-up is running: the patient left. Wipe
            # now and drop the answer when it comes (a re-tap gets the same number).
            self._abandoned += 1
            self.wipe()
            return
        if self.screen == "department" and self.mode == "self" and self._card_job:
            if not self._assigning:
                self.wipe()  # walked away before choosing: nothing was journaled
            return  # the number is being taken: it is shown when it comes
        if self.screen == "result" and self.mode == "self" and out is not None:
            self._keep_only_the_number()
        elif self.screen in ("key_needed", "birth_date"):
            self.wipe()

    def _keep_only_the_number(self) -> None:
        """Wipe the shown result's personal data, keeping its queue number large on screen
        (``number``) — none for a card sent to the desk, which goes straight to idle."""
        out = self._outcome
        if out is None or (out.authenticity is not None and out.authenticity.failed):
            self.wipe()  # sent to the desk: there is no number to keep
            return
        self._to_number(out)

    @property
    def result_times_out(self) -> bool:
        """Self-check showing a BHYT-QR result: no card will leave to end it, so the window
        ends it after ``[ui] result_timeout_s`` (:meth:`result_timeout`)."""
        return (
            self.mode == "self"
            and self.screen == "result"
            and not self._card_job
            and self._outcome is not None
        )

    def result_timeout(self) -> None:
        """A BHYT-QR result has been shown long enough: like a card's removal, its personal
        data goes and the number stays for the number screen's few seconds."""
        if self.result_times_out:
            self._keep_only_the_number()

    def number_timeout(self) -> None:
        """The number has been shown long enough after the card left: back to idle."""
        if self.screen == "number":
            self.wipe()

    def on_ticket(self, result: str | UserMessage) -> None:
        """The ticket printer's answer for the check-in shown: ``printing``, ``printed``, or
        the problem (paper out, cover open, offline) from the error table."""
        if self.screen in ("result", "number"):
            self.ticket = result
            self._go(self.screen)

    def idle_timeout(self) -> None:
        """Nobody touched the kiosk for the idle timeout: wipe everything shown, and go back
        to the configured mode (reception opened on a self-check kiosk does not stay open)."""
        if self.busy:
            return
        changed = (
            self.mode != self.home_mode
            or self.lang != self.home_lang
            or self.large_text != self.home_large_text
        )
        self.mode, self.lang = self.home_mode, self.home_lang
        self.large_text = self.home_large_text
        if self.screen != "idle" or changed:
            self.wipe()

    def wipe(self, *, notify: bool = True) -> None:
        """Forget all personal data and typed keys; back to idle. In self-check, a
        patient's screen ending also brings back the configured language for the next one
        (reception, and the operator's PIN and settings screens, keep theirs until the idle
        timeout)."""
        if self.mode == "self" and self.screen in _PATIENT_SCREENS:
            self.lang = self.home_lang
            self.large_text = self.home_large_text
        if self._assigning:  # the number being taken is not shown to whoever comes next
            self._abandoned += 1
            self._assigning = False
        self._outcome = None
        self._options = ()
        self._place = ""
        self._keys = None
        self._known = None
        self._decision = None
        self._progress = None
        self.error = None
        self.key_message = ""
        self.ticket = None
        self._number = None
        self._id_hint = None
        self._birth_keys = False
        self.screen = "idle"
        if self.reader_fault is not None:  # the reader is still unusable: keep saying so
            self.screen, self.error = "error", self.reader_fault
        if notify and self.on_change is not None:
            self.on_change()

    def set_language(self, lang: Lang) -> None:
        """Switch the language of every screen (the current one re-renders)."""
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}")
        self.lang = lang
        self._go(self.screen)

    def toggle_language(self) -> None:
        """Vietnamese ↔ English."""
        self.set_language("en" if self.lang == "vi" else "vi")

    def toggle_large_text(self) -> None:
        """Large text on ↔ off (the current screen re-renders at the new size)."""
        self.large_text = not self.large_text
        self._go(self.screen)

    @property
    def card_left_behind(self) -> bool:
        """Self-check: the patient's card is still on the reader after their result (the
        window reminds them to take it after ``[ui] card_reminder_s``)."""
        return self.mode == "self" and self.card_in_field and self.screen in _REMINDER_SCREENS

    @property
    def has_personal_data(self) -> bool:
        """Whether a check-in's personal data is held (only while the result is shown)."""
        return self._outcome is not None

    # ---- what the screens show -----------------------------------------------------------

    def view(self) -> ScreenView:
        """The current screen's content in the current language."""
        lang = self.lang
        if self.screen == "idle":
            return ScreenView("idle", t("idle.title", lang), t("idle.body", lang))
        if self.screen == "key_needed":
            return ScreenView(
                "key_needed",
                t("key.title", lang),
                t("key.body", lang),
                extra={"message": self.key_message},
            )
        if self.screen == "birth_date":
            return ScreenView(
                "birth_date",
                t("birth.title", lang),
                t("birth.body", lang),
                extra={
                    "message": self.key_message,
                    "step": "id" if self._id_hint is None else "dob",
                },
            )
        if self.screen == "reading":
            progress = None
            extra = {}
            if self._progress is not None:
                phase, percent, whole = self._progress
                progress = (stage_words(stage_of(phase), lang), percent, whole)
                if self.mode == "reception":  # staff may see the step; patients never do
                    extra["detail"] = phase_label(phase, lang)
            return ScreenView("reading", t("reading.title", lang), progress=progress, extra=extra)
        if self.screen == "verifying":
            return ScreenView("verifying", t("verifying.title", lang))
        if self.screen in ("today", "settings"):
            return ScreenView(self.screen, t(f"{self.screen}.title", lang))
        if self.screen in ("manual", "pin"):
            return ScreenView(
                self.screen,
                t(f"{self.screen}.title", lang),
                t(f"{self.screen}.body", lang),
                extra={"message": self.key_message},
            )
        if self.screen == "number":
            return ScreenView(
                "number",
                t("number.title", lang),
                t("number.body", lang),
                queue=str(self._number or ""),
                extra={"ticket": self._ticket_text(), "place": self._place},
            )
        if self.screen == "department":
            return self._department_view()
        if self.screen == "error":
            msg = self.error or GENERIC
            # Patients get what they can do; the operator's fix is for reception and doctor.
            action = msg.patient_action(lang) if self.mode == "self" else msg.action(lang)
            return ScreenView("error", msg.title(lang), action, extra={"key": msg.key})
        return self._result_view()

    def _department_view(self) -> ScreenView:
        """The department buttons (self-check), with the insurance answer in words on top."""
        lang = self.lang
        buttons = department_buttons(self._options, lang, self_check=True)
        out = self._outcome
        status = out.eligibility.status if out is not None else None
        any_open = any(b.enabled for b in buttons)
        return ScreenView(
            "department",
            t("dept.title", lang),
            t("dept.body" if any_open else "dept.none", lang),
            eligibility=(t(f"elig.{status}", lang),) if status else (),
            eligibility_status=status,
            choices=buttons,
            extra={
                "desk": desk_only(self._options, lang),
                "assigning": t("dept.assigning", lang) if self._assigning else "",
            },
        )

    def _ticket_text(self) -> str:
        """The ticket's state in words ("" when no printer is configured)."""
        lang = self.lang
        if self.ticket is None:
            return ""
        if isinstance(self.ticket, str):
            return t(f"ticket.{self.ticket}", lang)
        action = (
            self.ticket.patient_action(lang) if self.mode == "self" else self.ticket.action(lang)
        )
        return f"⚠ {self.ticket.title(lang)}. {action}"

    def _result_view(self) -> ScreenView:
        lang = self.lang
        out = self._outcome
        if out is None:
            return ScreenView("result", t("result.title", lang))
        lines: list[tuple[str, str]] = []
        holder = out.holder
        photo: bytes | None = None
        if out.read is not None and out.read.dg2 is not None:
            photo = out.read.dg2.image
        if holder is not None:
            sex = t(f"sex.{holder.sex}", lang) if holder.sex in ("Nam", "Nữ") else holder.sex or ""
            number = holder.id_number or ""
            lines += [
                (t("field.name", lang), holder.full_name or ""),
                (t("field.dob", lang), _date(holder.date_of_birth, lang)),
                (t("field.sex", lang), sex),
                (t("field.id", lang), mask_id(number) if self.mode == "self" else number),
            ]
            if self.mode == "reception":
                expiry = holder.date_of_expiry
                more = [
                    ("field.nationality", holder.nationality),
                    ("field.ethnicity", holder.ethnicity),
                    ("field.religion", holder.religion),
                    ("field.origin", holder.place_of_origin),
                    ("field.residence", holder.place_of_residence),
                    ("field.marks", holder.identifying_marks),
                    ("field.issued", _date(holder.date_of_issue, lang)),
                    (
                        "field.expiry",
                        _date(expiry, lang)
                        if expiry
                        else t("no_expiry", lang)
                        if holder.no_expiry
                        else "—",
                    ),
                    ("field.father", holder.father_name),
                    ("field.mother", holder.mother_name),
                    ("field.spouse", holder.spouse_name),
                    ("field.old_id", holder.old_id_number),
                ]
                lines += [(t(k, lang), v) for k, v in more if v]
        elif out.bhyt_card is not None:
            card = out.bhyt_card
            number = card.card_number
            lines += [
                (t("field.name", lang), card.full_name or ""),
                (t("field.dob", lang), _date(card.date_of_birth, lang) or str(card.birth_year)),
                (t("field.bhyt", lang), mask_id(number) if self.mode == "self" else number),
            ]
        kind: BadgeKind = "not_chip"
        if out.authenticity is not None and out.method == "chip":
            pa = out.authenticity.passive_auth
            if out.authenticity.verified:
                kind = "verified"
            elif pa is not None and pa.verdict == "issuer_unknown" and not out.chip_verified:
                cloned = any(
                    r is not None and r.result == "failed"
                    for r in (out.authenticity.chip_auth, out.authenticity.active_auth)
                )
                kind = "failed" if cloned else "issuer_unknown"
            else:
                kind = "failed"
        if self.mode == "self" and kind == "failed":
            # A forged, tampered, revoked or cloned card: no number, no insurance banner, no
            # personal data for the patient — the desk sees the reason and decides.
            return ScreenView(
                "result",
                t("desk.title", lang),
                t("desk.body", lang),
                badge=t("badge.failed", lang),
                badge_kind="failed",
                eligibility=(t("desk.body", lang),),
                eligibility_status="unknown",  # never the green insurance banner
            )
        el = out.eligibility
        elig = [t(f"elig.{el.status}", lang)]
        if self.mode == "self":  # the patient reads what it means for them, not staff advice
            elig.append(t(f"elig.patient.{el.status}", lang))
        else:
            elig.append(el.advice_vi if lang == "vi" else el.advice_en)
        if el.valid_from or el.valid_to:
            elig.append(
                f"{t('field.validity', lang)}: {_date(el.valid_from, lang) or '…'} → "
                f"{_date(el.valid_to, lang) or '…'}"
            )
        if el.registered_clinic:
            clinic = clinic_label(el.registered_clinic, self.clinic_names)
            elig.append(f"{t('field.clinic', lang)}: {clinic}")
        if self.mode == "reception":
            # The gateway's own note is Vietnamese free text: staff reading English get the
            # code (its meaning is the advice above, from the code table, in English).
            if el.message and lang == "vi":
                elig.append(f"{t('field.gateway', lang)}: {el.message}")
            elif el.code and lang != "vi":
                elig.append(t("elig.gateway_code", lang, code=el.code))
        if el.source == "cache" and out.cache_age is not None:
            stale = t("elig.stale", lang) if el.stale else ""
            elig.append(t("elig.cache", lang, age=format_age(out.cache_age, lang)) + stale)
        # Large text: the name and birth date (enough to know it is you), the status and what it
        # means; the photo stays off (the patient knows their face).
        large = self.large_text and self.mode == "self"
        return ScreenView(
            "result",
            t("result.title", lang),
            photo=None if large else photo,
            lines=tuple(lines[:LARGE_LINES] if large else lines),
            badge=t(f"badge.{kind}", lang),
            badge_kind=kind,
            eligibility=tuple(elig[:LARGE_ELIGIBILITY] if large else elig),
            eligibility_status=el.status,
            queue=self._queue_text(out, lang),
            extra={
                "ticket": self._ticket_text(),
                **self._trust_extra(out, lang),
                **self._failure_extra(out, lang),
            },
            choices=(
                department_buttons(self._options, lang, self_check=False)
                if out.is_pending and self.mode == "reception"
                else ()
            ),
        )

    def _queue_text(self, out: CheckInOutcome, lang: Lang) -> str:
        """The number ("Số thứ tự: 15"; "Bạn đã có số 15 hôm nay" for a re-tap), then where
        to go ("Khám Nội — Phòng 203") on the next line; reception's hint while the
        department is still to be chosen."""
        if out.is_pending:
            return t("dept.assigning", lang) if self._assigning else t("dept.staff_hint", lang)
        text = (
            t("queue.repeat", lang, n=out.queue_number)
            if out.repeat
            else f"{t('field.queue', lang)}: {out.queue_number}"
        )
        place = self._place_of(out)
        return f"{text}\n{place}" if place else text

    def _failure_extra(self, out: CheckInOutcome, lang: Lang) -> dict[str, str]:
        """Reception only: why the card failed, and the decision taken (if any)."""
        auth = out.authenticity
        kind = auth.failure() if auth is not None else None
        if self.mode != "reception" or kind is None:
            return {}
        extra = {"failure": t(f"failure.{kind}", lang)}
        if self.needs_decision:
            extra["decide"] = "1"
        if self._decision is not None:
            extra["decision"] = t(
                "decision.accepted" if self._decision else "decision.refused", lang
            )
        return extra

    def _trust_extra(self, out: CheckInOutcome, lang: Lang) -> dict[str, str]:
        """Reception only: the line naming the CSCA that vouched (or the one missing)."""
        if self.mode != "reception" or out.authenticity is None or out.method != "chip":
            return {}
        text = trust_text(out.authenticity.passive_auth, lang)
        return {"trust": text} if text else {}
