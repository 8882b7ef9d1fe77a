"""``cccd-kiosk display [--port N] [--bind ADDR] [--voice] [--config FILE]``: the calling display.

Serves the page a TV in the waiting room opens (:mod:`kiosk.display.server`) over this
kiosk's storage: the numbers being served per department and room, the next ones, in
Vietnamese and English, updated within a second of a desk's "Gọi số tiếp theo / Call next".
Loopback by default; ``[display] bind`` (or ``--bind``) puts it on the hospital LAN.
With ``[display] voice`` (or ``--voice``) the page speaks each call through espeak-ng; a
machine without it serves the page silently and says so once.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import EXIT_OK, cli_line
from kiosk.cli_common import settings_from_args
from kiosk.display.server import DisplayServer
from kiosk.voice import EspeakVoice, Voice, VoiceError


def register(sub: Any) -> None:
    """Add ``display`` to ``sub``."""
    d = sub.add_parser("display", help="serve the calling display page for a waiting-room TV")
    d.add_argument("--config", type=Path, help="TOML configuration file")
    d.add_argument("--data-dir", type=Path, help="the data folder (default: the config's)")
    d.add_argument("--port", type=int, help="TCP port (default: [display] port, 8780)")
    d.add_argument("--bind", help="address to listen on (default: [display] bind, loopback)")
    d.add_argument("--voice", action="store_true", help="speak each call (espeak-ng)")


def _voice(wanted: bool) -> Voice | None:
    if not wanted:
        return None
    voice = EspeakVoice()
    try:
        voice.check()
    except VoiceError as exc:
        print(f"cccd-kiosk display: {cli_line(exc)}", file=sys.stderr)
        return None
    return voice


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def cmd_display(args: argparse.Namespace) -> int:
    """Serve the display until interrupted (Ctrl+C, SIGTERM)."""
    settings = settings_from_args(args)
    conf = settings.config.display
    with Kiosk(settings, demo_gateway=False, purge_at_start=False) as kiosk:
        server = DisplayServer(
            kiosk,
            host=args.bind or conf.bind,
            port=args.port if args.port is not None else conf.port,
            voice=_voice(args.voice or conf.voice),
        )
        try:
            loopback = ipaddress.ip_address(server.address[0]).is_loopback
        except ValueError:
            loopback = False
        where = "loopback only; set [display] bind for the LAN" if loopback else "LAN"
        print(f"Màn hình gọi số / Calling display: {server.url} ({where})", flush=True)
        signal.signal(signal.SIGTERM, _stop)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"display": cmd_display}
