"""The check-in flow in a terminal, for ``make run`` on a machine without a display.

The Qt kiosk needs a screen; a fresh server or a container has none. Rather than abort inside
Qt, ``cccd-kiosk`` (no arguments) runs :func:`run_terminal` there: the same check-in pipeline
the screens use (simulated reader, BHXH gateway simulator in the background on loopback, the
encrypted cache and journal), driven by typed choices instead of taps.

Each pass lists the sample cards, reads a choice — a number, a card name, a typed 12-digit ID
(the CAN is its last 6 digits), the text of the QR code on a CCCD, or the text of a BHYT card
QR — checks the patient in and prints the result (holder, authenticity verdicts, eligibility
with advice, queue number). The next choice wipes the screen first (ANSI clear) so the next
patient does not see the previous one's data; ``q`` quits and so does end of input, so
``make run </dev/null`` prints one check-in of the default card and ends cleanly.

Errors are shown with :func:`ui.messages.message_for` (what to do next, never the exception's
text). Personal data goes to ``output`` only, never to a log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kiosk.config import Config

if TYPE_CHECKING:
    from kiosk.cccd.access import AccessKey
    from kiosk.checkin import CheckInOutcome, CheckInPipeline
    from kiosk.eligibility.base import EligibilityBackend

log = logging.getLogger(__name__)

#: ANSI: clear the screen and move the cursor home.
CLEAR = "\x1b[2J\x1b[H"
#: Choices that end the loop.
QUIT_WORDS = frozenset({"q", "quit", "exit", "thoát", "thoat"})
#: The card checked in first, before any choice is read.
DEFAULT_CARD = "default"
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


# ---- the gateway simulator -------------------------------------------------------------


@dataclass(frozen=True)
class GatewayAccess:
    """Where the eligibility gateway is and the environment its client reads credentials
    from (``CCCD_KIOSK_BHXH_*``); kept out of ``repr``."""

    url: str
    env: Mapping[str, str] = field(repr=False)


# ---- the loop ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleCard:
    """One simulated card as the menu shows it (made-up person)."""

    name: str
    full_name: str
    id_number: str
    description: str


def sample_cards() -> list[SampleCard]:
    """The simulator's sample cards, ``default`` first."""
    from simulators.card.profile import list_profiles, load_profile

    out = []
    for name in list_profiles():
        profile = load_profile(name)
        out.append(SampleCard(name, profile.full_name, profile.id_number, profile.description))
    out.sort(key=lambda c: (c.name != DEFAULT_CARD, c.name))
    return out


@dataclass
class _Session:
    """What one terminal run holds open: the pipeline and the card "on the reader"."""

    pipeline: CheckInPipeline
    cards: list[SampleCard]
    output: TextIO
    current: str = DEFAULT_CARD


def _say(output: TextIO, *lines: str) -> None:
    for line in lines:
        output.write(line + "\n")
    output.flush()


def _menu(session: _Session) -> None:
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
    from ui.messages import message_for

    msg = message_for(exc)
    log.info("check-in failed: %s", type(exc).__name__)
    _say(output, "", f"✘ {msg.title_vi} / {msg.title_en}", f"  → {msg.action_vi}")
    _say(output, f"  → {msg.action_en}")


def _print_outcome(output: TextIO, out: CheckInOutcome) -> None:
    from kiosk.checkin_cli import _json_outcome, format_outcome

    _say(output, "", format_outcome(out, _json_outcome(out, None)))


def _checkin_card(session: _Session, card: str, keys: Sequence[AccessKey] | None = None) -> None:
    from drivers.registry import open_transport
    from drivers.simulated import LinkModel
    from kiosk.cccd import access
    from simulators.card.profile import load_profile

    if keys is None:
        keys = [access.key_from_id(load_profile(card).id_number)]
    _say(session.output, f"Đang đọc thẻ / Reading card: {card} …")
    transport = open_transport(f"sim:{card}", link=LinkModel.zero())
    try:
        out = session.pipeline.checkin_card(transport, keys)
    finally:
        transport.close()
    session.current = card
    _print_outcome(session.output, out)


def _card_for_id(session: _Session, id_number: str) -> str:
    """The sample card with that ID, else the card already "on the reader" (a wrong key)."""
    for card in session.cards:
        if card.id_number == id_number:
            return card.name
    return session.current


def handle_choice(session: _Session, choice: str) -> None:
    """Run the check-in ``choice`` asks for, printing the result or what to do next."""
    from kiosk.cccd import access

    text = choice.strip()
    names = [c.name for c in session.cards]
    try:
        if not text:
            _checkin_card(session, session.current)
        elif text.isdigit() and 1 <= int(text) <= len(names) and len(text) <= 3:
            _checkin_card(session, names[int(text) - 1])
        elif text in names:
            _checkin_card(session, text)
        elif _ID12.match("".join(text.split())):
            number = "".join(text.split())
            _checkin_card(session, _card_for_id(session, number), [access.key_from_id(number)])
        elif re.match(r"\A\d{12}\|", text):
            keys = list(access.keys_from_qr(text))
            _checkin_card(session, _card_for_id(session, text[:12]), keys)
        elif "|" in text:
            out = session.pipeline.checkin_bhyt_qr(text)
            _print_outcome(session.output, out)
        else:
            _say(
                session.output,
                "Không hiểu lựa chọn này / Choice not understood: "
                f"1–{len(names)}, a card name, a 12-digit ID, a QR text or q",
            )
    except Exception as exc:  # every failure becomes advice; the loop goes on
        _show_error(session.output, exc)


def _open_backend(access_: GatewayAccess | None, config: Config) -> EligibilityBackend | None:
    from kiosk.checkin_cli import make_backend
    from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig

    if access_ is None:
        return make_backend(config.gateway.url, config.gateway.kind, config)
    return BhxhClient(
        BhxhConfig.from_env(
            access_.url,
            env=access_.env,
            api_version="2024",
            connect_timeout=config.gateway.connect_timeout_s,
            total_timeout=config.gateway.timeout_s,
        )
    )


def run_terminal(
    config: Config,
    *,
    input: TextIO | None = None,
    output: TextIO | None = None,
    data_dir: Path | None = None,
    gateway: GatewayAccess | None = None,
    wipe: bool | None = None,
    first_card: str | None = DEFAULT_CARD,
) -> int:
    """Check patients in from the terminal until ``q`` or end of input; returns 0.

    ``gateway`` is a running gateway to use; without it, ``[gateway] url`` of ``config``
    (credentials from the environment) is used, and with neither the BHXH simulator is
    started on loopback for the run. ``data_dir`` holds the cache and journal; by default
    ``[storage] data_dir``, else a temporary folder when the simulator is used (demo data
    never mixes with a real kiosk's), else the user data directory. ``wipe`` clears the
    screen between patients (default: when ``output`` is a terminal). ``first_card`` is
    checked in before the first choice is read (None: none).
    """
    inp = sys.stdin if input is None else input
    out = sys.stdout if output is None else output
    if wipe is None:
        wipe = out.isatty()
    _say(
        out,
        "Không có màn hình: dùng chế độ dòng lệnh / No display: using the terminal mode",
    )
    with contextlib.ExitStack() as stack:
        access_ = gateway
        if access_ is None and not config.gateway.url:
            _say(out, "Khởi động cổng BHXH mô phỏng / Starting the BHXH gateway simulator …")
            from simulators.gateway.process import GatewayProcess

            sim = stack.enter_context(GatewayProcess())
            sim.start()
            access_ = GatewayAccess(sim.url, sim.client_env())
        folder = _data_folder(config, data_dir, demo=config.gateway.url is None, stack=stack)
        session = _open_session(config, access_, folder, out, stack)
        if first_card is not None:
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
    return 0  # pragma: no cover (the loop returns)


def _data_folder(
    config: Config, data_dir: Path | None, *, demo: bool, stack: contextlib.ExitStack
) -> Path:
    if data_dir is not None:
        return data_dir
    if config.storage.data_dir:
        return Path(config.storage.data_dir).expanduser()
    if demo:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cccd-kiosk-")))
    from offline_cache.store import default_data_dir

    return default_data_dir()


def _open_session(
    config: Config,
    access_: GatewayAccess | None,
    folder: Path,
    out: TextIO,
    stack: contextlib.ExitStack,
) -> _Session:
    from kiosk.checkin import CheckInPipeline
    from kiosk.checkin_cli import CACHE_DB, JOURNAL_DB
    from kiosk.cli import load_trust
    from offline_cache.cache import EligibilityCache
    from offline_cache.crypto import Sealer, load_or_create_key
    from offline_cache.journal import Journal

    sealer = Sealer(load_or_create_key(folder))
    cache = EligibilityCache(
        folder / CACHE_DB,
        sealer,
        ttl=timedelta(hours=config.storage.cache_ttl_hours),
        max_stale=timedelta(days=config.storage.max_stale_days),
    )
    stack.callback(cache.close)
    journal = Journal(folder / JOURNAL_DB, sealer)
    stack.callback(journal.close)
    pipeline = CheckInPipeline(
        _open_backend(access_, config),
        cache,
        journal,
        trust=load_trust([], demo=True),
        eligibility_timeout=config.gateway.timeout_s + 1.0,
    )
    stack.enter_context(pipeline)
    return _Session(pipeline, sample_cards(), out)
