"""The check-in flow in a terminal, for ``make run`` on a machine without a display.

The Qt kiosk needs a screen; a fresh server or a container has none. Rather than abort inside
Qt, ``cccd-kiosk`` (no arguments) runs :func:`run_terminal` there: the same
:class:`kiosk.app.Kiosk` the screens use — the configured reader and trust, the eligibility
backend, the encrypted cache and journal — driven by typed lines instead of taps.

* **The demo** (a ``sim:`` reader, the embedded default): each pass lists the sample cards
  and reads a choice — a number, a card name, Enter for the same card, a typed 12-digit ID
  (the CAN is its last 6 digits), the text of the QR code on a CCCD, or the text of a BHYT
  card QR — and checks that patient in on the simulated reader.
* **A real reader** (``pcsc``, ``nfc``, ``auto``): the patient places the card and the line
  typed (CAN, ID, CCCD QR, MRZ; or a BHYT QR without a card) opens it on that reader. The
  simulator is never read unless the configuration says ``sim:``.

The next line wipes the screen first (ANSI clear) so the next patient does not see the
previous one's data; ``q`` quits and so does end of input, so ``make run </dev/null`` prints
one check-in of the default card and ends cleanly. Errors are shown from the one error table
(:func:`kiosk.app.messages.message_for`: what to do next, never the exception's text).
Personal data goes to ``output`` only, never to a log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from kiosk import sdnotify
from kiosk.app.demo import DEFAULT_CARD, SampleCard, sample_cards, sample_keys
from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import message_for
from kiosk.app.reports import CheckInReport
from kiosk.app.settings import Settings
from kiosk.cccd import access

log = logging.getLogger(__name__)

#: ANSI: clear the screen and move the cursor home.
CLEAR = "\x1b[2J\x1b[H"
#: How long a real reader is given to see the card once the patient typed the key (seconds).
READER_WAIT_S = 20.0
#: Choices that end the loop.
QUIT_WORDS = frozenset({"q", "quit", "exit", "thoát", "thoat"})
#: Qt platform plugins that draw without a window system (an explicit choice of the user).
_HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"})

_ID12 = re.compile(r"\A\d{12}\Z")


def has_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt can show (or was told to render) windows here.

    True on macOS and Windows, when ``DISPLAY`` or ``WAYLAND_DISPLAY`` is set, or when
    ``QT_QPA_PLATFORM`` explicitly names a platform that needs no window system
    (``offscreen``, ``minimal``, ``vnc``, ``eglfs``, ``linuxfb``…). ``QT_QPA_PLATFORM=xcb``
    or ``wayland`` alone is not enough: those need the display variables too.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("darwin", "win32"):
        return True
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return True
    qpa = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()
    return qpa in _HEADLESS_PLATFORMS


@dataclass
class _Session:
    """What one terminal run holds: the kiosk, the sample cards (demo) and the card "on the
    simulated reader"."""

    kiosk: Kiosk
    cards: list[SampleCard]
    output: TextIO
    current: str = DEFAULT_CARD
    #: Where the department choice is read from (None: no choice can be asked).
    input: TextIO | None = None


def _show_report(session: _Session, report: CheckInReport) -> None:
    """Print a check-in; one read with several departments configured first asks which one
    (the number is taken only then; no answer takes none)."""
    out = report.outcome
    if out.is_pending:
        if out.authenticity is not None and out.authenticity.failed:
            _say(session.output, "", report.to_text(), "", DESK_LINE)
            return
        options = session.kiosk.department_options(out, self_check=False)
        lines = ["", "Chọn khoa / Choose the department:"]
        for i, o in enumerate(options, 1):
            d = o.department
            room = f" — Phòng / Room {d.room}" if d.room else ""
            held = f" (đã có số / has number {o.existing})" if o.existing else ""
            lines.append(f"  {i:>2}. {d.name('vi')} / {d.name('en')}{room}{held}")
        _say(session.output, *lines)
        session.output.write("khoa / department> ")
        session.output.flush()
        answer = session.input.readline().strip() if session.input is not None else ""
        codes = {str(i): o.code for i, o in enumerate(options, 1)}
        codes.update({o.code.upper(): o.code for o in options})
        code = codes.get(answer.upper())
        if code is None:
            _say(session.output, NO_DEPARTMENT_LINE)
            return
        report = session.kiosk.assign_number(out, code)
    _say(session.output, "", report.to_text())


#: A card that failed its checks when departments are to be chosen: no number at the terminal.
DESK_LINE = "✘ Mời đến quầy tiếp đón / Please go to the reception desk (no number taken)"
NO_DEPARTMENT_LINE = "Chưa chọn khoa — chưa lấy số / No department chosen — no number taken"


def _say(output: TextIO, *lines: str) -> None:
    for line in lines:
        output.write(line + "\n")
    output.flush()


def _menu(session: _Session) -> None:
    if not session.kiosk.demo:
        _say(
            session.output,
            "",
            f"Đầu đọc / Reader: {session.kiosk.reader}",
            "Đặt thẻ lên đầu đọc, rồi gõ 6 số CAN hoặc số CCCD, quét mã QR hoặc MRZ; q = thoát",
            "Place the card on the reader, then type the CAN or the ID number, or scan the QR "
            "code or the MRZ; q = quit",
        )
        return
    lines = ["", "Thẻ mẫu / Sample cards:"]
    for i, card in enumerate(session.cards, 1):
        lines.append(f"  {i:>2}. {card.name:<10} {card.full_name} — {card.description}")
    lines.append("")
    lines.append(
        "Chọn số hoặc tên thẻ, gõ số CCCD 12 số, dán mã QR; Enter = thẻ đang chọn; q = thoát"
    )
    lines.append(
        "Choose a number or card name, type a 12-digit ID, paste a QR code; "
        "Enter = current card; q = quit"
    )
    _say(session.output, *lines)


def _show_error(output: TextIO, exc: BaseException) -> None:
    msg = message_for(exc)
    log.info("check-in failed: %s", type(exc).__name__)
    _say(output, "", f"✘ {msg.title_vi} / {msg.title_en}", f"  → {msg.action_vi}")
    _say(output, f"  → {msg.action_en}")


def _checkin_sample(
    session: _Session, card: str, keys: Sequence[access.AccessKey] | None = None
) -> None:
    """Check in sample ``card`` on the simulated reader (demo)."""
    _say(session.output, f"Đang đọc thẻ / Reading card: {card} …")
    transport = session.kiosk.open_reader(card)
    try:
        keys = keys or sample_keys(card.partition("+")[0])
        report = session.kiosk.checkin_card(keys, transport=transport, choose_later=True)
    finally:
        transport.close()
    session.current = card
    _show_report(session, report)


def _card_for_id(session: _Session, id_number: str) -> str:
    """The sample card with that ID, else the card already "on the reader" (a wrong key)."""
    for card in session.cards:
        if card.id_number == id_number:
            return card.name
    return session.current


def _demo_choice(session: _Session, text: str) -> bool:
    """A demo-only choice (a sample card by number, name or Enter; an ID or QR naming one);
    False when ``text`` is none of them."""
    names = [c.name for c in session.cards]
    compact = "".join(text.split())
    if not text:
        _checkin_sample(session, session.current)
    elif text.isdigit() and 1 <= int(text) <= len(names) and len(text) <= 3:
        _checkin_sample(session, names[int(text) - 1])
    elif text in names:
        _checkin_sample(session, text)
    elif _ID12.match(compact):
        _checkin_sample(session, _card_for_id(session, compact), [access.key_from_id(compact)])
    elif re.match(r"\A\d{12}\|", text):
        _checkin_sample(session, _card_for_id(session, text[:12]), access.keys_from_qr(text))
    else:
        return False
    return True


def handle_choice(session: _Session, choice: str) -> None:
    """Run the check-in ``choice`` asks for, printing the result or what to do next."""
    text = choice.strip()
    kiosk = session.kiosk
    try:
        if kiosk.demo and _demo_choice(session, text):
            return
        if access.detect_input(text) == "bhyt_qr":
            _show_report(session, kiosk.checkin_bhyt(text, choose_later=True))
            return
        keys = access.keys_from_text(text) if text else None
        if keys is None or kiosk.demo:
            _say(
                session.output,
                "Không hiểu lựa chọn này / Choice not understood: "
                + (
                    f"1–{len(session.cards)}, a card name, a 12-digit ID, a QR text or q"
                    if kiosk.demo
                    else "the CAN, the 12-digit ID, the card's QR or MRZ, a BHYT QR, or q"
                ),
            )
            return
        _say(
            session.output,
            f"Đang chờ thẻ trên đầu đọc / Waiting for the card on {kiosk.reader} "
            f"({READER_WAIT_S:.0f} s) …",
        )
        transport = kiosk.open_reader(wait_s=READER_WAIT_S)
        try:
            _say(session.output, "Đang đọc thẻ / Reading the card …")
            report = kiosk.checkin_card(keys, transport=transport, choose_later=True)
        finally:
            transport.close()
        _show_report(session, report)
    except Exception as exc:  # every failure becomes advice; the loop goes on
        _show_error(session.output, exc)


def run_terminal(
    target: Settings | Kiosk,
    *,
    input: TextIO | None = None,
    output: TextIO | None = None,
    wipe: bool | None = None,
    first_card: str | None = "",
) -> int:
    """Check patients in from the terminal until ``q`` or end of input; returns 0.

    ``target`` is the kiosk to use, or the settings to build it from (then closed at the
    end). ``wipe`` clears the screen between patients (default: when ``output`` is a
    terminal). ``first_card`` is the sample card checked in before the first line is read
    (demo only): "" the configured one (``sim:CARD``), None none; a real reader waits for
    the patient.
    """
    inp = sys.stdin if input is None else input
    out = sys.stdout if output is None else output
    if wipe is None:
        wipe = out.isatty()
    _say(out, "Không có màn hình: dùng chế độ dòng lệnh / No display: using the terminal mode")
    own = not isinstance(target, Kiosk)
    kiosk = target if isinstance(target, Kiosk) else Kiosk(target, link_kbps=0)
    try:
        kiosk.serve_status()
    except Exception:
        if own:
            kiosk.close()
        raise
    if kiosk.gateway is not None:
        _say(out, "Cổng BHXH mô phỏng / BHXH gateway simulator on 127.0.0.1 (made-up answers)")
    sdnotify.notify("READY=1")
    dog = sdnotify.watchdog()
    stop_pings = sdnotify.ping_from_thread(dog) if dog is not None else None
    try:
        # the configured sample card, with its +FAULT when the config names one
        configured = kiosk.config.reader.spec.name or DEFAULT_CARD
        session = _Session(kiosk, sample_cards() if kiosk.demo else [], out, configured, inp)
        if kiosk.demo and first_card == "":
            try:
                _checkin_sample(session, configured)
            except Exception as exc:
                _show_error(out, exc)
        elif kiosk.demo and first_card:
            handle_choice(session, first_card)
        while True:
            _menu(session)
            out.write("> ")
            out.flush()
            line = inp.readline()
            if not line:  # end of input: leave the last result on screen
                _say(out, "", "Tạm biệt / Goodbye")
                return 0
            choice = line.strip()
            if choice.lower() in QUIT_WORDS:
                if wipe:
                    out.write(CLEAR)
                _say(out, "Tạm biệt / Goodbye")
                return 0
            if wipe:
                out.write(CLEAR)
            handle_choice(session, choice)
    finally:
        if stop_pings is not None:
            stop_pings.set()
        if own:
            kiosk.close()
