"""``cccd-kiosk set-pin``: the operator PIN that guards the kiosk's settings and its quit.

The PIN is read twice from the terminal (not echoed) or, when standard input is not a
terminal, as its first two lines; it must be at least six digits. It is stored only as a
salted scrypt hash (:mod:`kiosk.app.pin`): by default in the data folder (``operator-pin``,
mode 0600, which also clears any lock-out), or printed as the ``[ui] operator_pin_hash`` line
for the config file with ``--print``. The PIN itself is never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.app.audit import record_in
from kiosk.app.errors import UsageError
from kiosk.app.messages import EXIT_OK
from kiosk.app.pin import PinFormatError, check_new_pin, hash_pin, write_pin_file
from kiosk.app.settings import data_folder
from kiosk.cli_common import settings_from_args


def register(sub: Any) -> None:
    """Add ``set-pin`` to ``sub``."""
    s = sub.add_parser("set-pin", help="set the operator PIN (settings, quit) as a scrypt hash")
    s.add_argument("--config", type=Path, help="TOML configuration file (its data folder)")
    s.add_argument("--data-dir", type=Path, help="the data folder to keep the PIN hash in")
    s.add_argument(
        "--print",
        dest="print_hash",
        action="store_true",
        help="print the [ui] operator_pin_hash line instead of writing the data folder",
    )


def _read_pin() -> tuple[str, str]:
    if sys.stdin.isatty():
        return getpass.getpass("Mã PIN mới / New PIN: "), getpass.getpass("Nhập lại / Again: ")
    first = sys.stdin.readline().strip()
    return first, sys.stdin.readline().strip()


def cmd_set_pin(args: argparse.Namespace) -> int:
    """Read the new PIN twice and store (or print) its hash."""
    pin, again = _read_pin()
    if pin != again:
        raise UsageError("the two PINs differ: nothing was changed")
    try:
        check_new_pin(pin)
    except PinFormatError as exc:
        raise UsageError(f"{exc}: nothing was changed") from exc
    if args.print_hash:
        print(f'operator_pin_hash = "{hash_pin(pin)}"')
        return EXIT_OK
    folder = data_folder(settings_from_args(args))
    path = write_pin_file(folder, pin)
    record_in(folder, "settings.pin", target="operator_pin")
    print(f"Đã lưu mã PIN / PIN saved: {path}", file=sys.stderr)
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"set-pin": cmd_set_pin}
