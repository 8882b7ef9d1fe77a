"""``cccd-kiosk audit [--since DATE] [--json] [--verify]``: the operator audit trail.

Prints the trail of the data folder (:mod:`offline_cache.audit`), oldest first: when (local
time), who, on which kiosk, what, on what, and the detail — never patient data (a check-in is
named by its id). ``--since`` starts at a local day; ``--json`` prints a JSON list of rows.
``--verify`` recomputes the HMAC chain instead: exit 0 with the row count and the chain's
head (note it elsewhere: cutting rows off the end leaves a valid, shorter chain), exit 1
naming the first row that was altered, inserted or removed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any

from kiosk.app.audit import LOCAL_TZ, open_trail
from kiosk.app.errors import UsageError
from kiosk.app.messages import EXIT_FAILED, EXIT_OK
from kiosk.app.settings import data_folder
from kiosk.app.storage import has_journal
from kiosk.cli_common import parse_day, settings_from_args


def register(sub: Any) -> None:
    """Add ``audit`` to ``sub``."""
    a = sub.add_parser("audit", help="the operator audit trail (settings, PINs, exports…)")
    a.add_argument("--config", type=Path, help="TOML configuration file")
    a.add_argument("--data-dir", type=Path, help="the data folder (default: the config's)")
    a.add_argument("--since", help="from this local day on (YYYY-MM-DD)")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument("--verify", action="store_true", help="check the HMAC chain; exit 1 if broken")


def cmd_audit(args: argparse.Namespace) -> int:
    """Print (or verify) the audit trail."""
    settings = settings_from_args(args)
    folder = data_folder(settings)
    if not has_journal(folder):
        raise UsageError(f"{folder}: no check-in journal here (see --data-dir)")
    since = None
    if args.since:
        since = datetime.combine(parse_day(args.since, "--since"), time(), LOCAL_TZ)
    with open_trail(folder, settings.config.storage) as trail:
        if args.verify:
            v = trail.verify()
            if args.json:
                print(json.dumps(v.__dict__, indent=2))
            elif v.ok:
                print(f"ok: {v.rows} rows, head seq {v.head_seq} mac {v.head_mac}")
            else:
                print(
                    f"BROKEN at row {v.first_bad}: altered, inserted or removed "
                    f"(the chain holds up to seq {v.head_seq})"
                )
            return EXIT_OK if v.ok else EXIT_FAILED
        entries = trail.entries(since)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return EXIT_OK
    for e in entries:
        detail = " ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
        at = e.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{e.seq:5}  {at}  {e.actor:16} {e.kiosk:12} {e.action:15} {e.target} {detail}")
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"audit": cmd_audit}
