"""What the ``cccd-kiosk`` subcommands share: the parser class, the access-key and reader
arguments, turning them into access keys, and into the kiosk's :class:`Settings`.

Kept apart from :mod:`kiosk.cli` (the entry point) and :mod:`kiosk.checkin_cli` (the check-in
commands) so that neither imports the other's module back.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.app.errors import UsageError
from kiosk.app.logs import configure_logging
from kiosk.app.messages import EXIT_USAGE
from kiosk.app.settings import Overrides, Settings, resolve
from kiosk.cccd import access
from kiosk.config import READER_HELP


class Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line and exits 2."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def add_reader_args(p: argparse.ArgumentParser) -> None:
    """``--reader``, ``--config``, ``--trust`` and ``--link-kbps``."""
    p.add_argument("--reader", help=f"{READER_HELP} (default: the config file's, else sim:default)")
    p.add_argument("--config", type=Path, help="TOML configuration file")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="CSCA certificate, master list, CRL or folder (repeatable); "
        "'demo' = the simulator's test CSCA (default for sim: readers)",
    )
    p.add_argument(
        "--link-kbps",
        type=int,
        choices=[0, 106, 212, 424, 848],
        default=424,
        help="simulated reader: modeled bit rate (0 = no latency model)",
    )


def add_key_args(group: Any) -> None:
    """The mutually exclusive access-key arguments (``--dob`` goes with ``--id``)."""
    group.add_argument("--can", help="card access number: the last 6 digits of the ID number")
    group.add_argument("--mrz", help='the three MRZ lines, separated by newlines or "\\n"')
    group.add_argument("--qr", help="the text of the QR code on the card")
    group.add_argument("--id", dest="id_number", help="12-digit ID number (with --dob)")


def parse_day(value: str, flag: str) -> date:
    """A ``YYYY-MM-DD`` flag value, or :class:`UsageError` naming ``flag``."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        # never echo the value: a birth date is personal data
        raise UsageError(f"{flag}: not a date; expected YYYY-MM-DD") from exc


def keys_from_args(args: argparse.Namespace) -> list[access.AccessKey]:
    """Turn --can / --mrz / --qr / --id+--dob into the ordered list of keys to try."""
    if args.id_number is not None:
        if not args.dob:
            raise UsageError("--id needs --dob YYYY-MM-DD")
        return list(access.keys_from_id_and_birth(args.id_number, parse_day(args.dob, "--dob")))
    if args.dob:
        raise UsageError("--dob is used only with --id")
    if args.can is not None:
        return [access.key_from_id(args.can) if len(args.can) == 12 else access.CAN(args.can)]
    if args.mrz is not None:
        return [access.key_from_mrz(args.mrz.replace("\\n", "\n"))]
    return list(access.keys_from_qr(args.qr))


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The configuration (``--config`` or the embedded default) with this command's flags."""
    o = Overrides(
        reader=getattr(args, "reader", None),
        gateway_url=getattr(args, "gateway", None),
        gateway_kind=getattr(args, "gateway_kind", None),
        data_dir=getattr(args, "data_dir", None),
        trust=tuple(getattr(args, "trust", None) or ()),
        his_url=getattr(args, "url", None),
        his_format=getattr(args, "his_format", None),
    )
    settings = resolve(getattr(args, "config", None), o)
    if settings.path is not None:  # the file's [logging] from here on
        configure_logging(settings.config.logging)
    return settings


def link_kbps(args: argparse.Namespace) -> int:
    """``--link-kbps``: the simulated reader's modeled bit rate (0: no latency model)."""
    return int(getattr(args, "link_kbps", 424))
