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
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kiosk.config import Config

if TYPE_CHECKING:
    from kiosk.access import AccessKey
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

_LISTENING = re.compile(r"listening on (http://\S+):(\d+)")
_ID12 = re.compile(r"\A\d{12}\Z")
_ROOT = Path(__file__).resolve().parent.parent


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


class SimulatedGateway:
    """``python -m simulators.cli gateway --port 0`` on 127.0.0.1 with random credentials.

    The credentials go to the child through its environment (never argv, which ``ps`` shows)
    and to the kiosk's client through :attr:`access`. :meth:`stop` (or leaving the ``with``
    block) ends the process: SIGTERM, then SIGKILL after ``timeout``.
    """

    def __init__(self) -> None:
        self.username = f"kiosk-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 15.0) -> GatewayAccess:
        """Start the server and wait for its ``listening on`` line and ``/admin/health``."""
        env = dict(os.environ)
        env["CCCD_SIM_GATEWAY_USERNAME"] = self.username
        env["CCCD_SIM_GATEWAY_PASSWORD"] = self.password
        argv = [sys.executable, "-m", "simulators.cli", "gateway", "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*argv, "--port", "0"],
            cwd=_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        match = _LISTENING.search(self._first_line(timeout))
        if match is None:
            self.stop()
            raise RuntimeError("the gateway simulator did not start")
        self.url = f"{match.group(1)}:{match.group(2)}"
        self._wait_healthy(timeout)
        return self.access

    @property
    def access(self) -> GatewayAccess:
        """The URL and the client-side credential environment."""
        from kiosk.eligibility import bhxh
        from simulators.gateway.data import InsuredData

        # The 2024 API asks who runs the check: the simulator's first registered (made-up)
        # staff member.
        staff = next(iter(InsuredData.load(None).staff.values()))
        return GatewayAccess(
            self.url,
            {
                bhxh.ENV_USERNAME: self.username,
                bhxh.ENV_PASSWORD: self.password,
                bhxh.ENV_STAFF_NAME: staff.name,
                bhxh.ENV_STAFF_CCCD: staff.cccd,
            },
        )

    def _first_line(self, timeout: float) -> str:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        stdout = proc.stdout
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return box[0] if box else ""

    def _wait_healthy(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/admin/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the gateway simulator did not answer")

    def stop(self, timeout: float = 10.0) -> None:
        """End the process (idempotent)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> SimulatedGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
    from kiosk import access
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
    from kiosk import access

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
            sim = stack.enter_context(SimulatedGateway())
            access_ = sim.start()
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
