"""``cccd-kiosk doctor [--json]``: check by check, what works on this kiosk and what to do.

The checks are :mod:`kiosk.app.doctor`'s; this front-end only prints them — one line per
check (with the fix in Vietnamese and English under a line that is not ok), or with ``--json``
the stable document ``{"ok": bool, "checks": [{"name", "status", "detail", "fix_vi",
"fix_en"}, ...]}`` that the Debian package's post-install step reads. Exit 0 when nothing
failed (warnings and skips included), 1 when something must be fixed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.app.doctor import CHECK_TIMEOUT_S, is_ok, run_checks, to_json, to_text
from kiosk.app.messages import EXIT_FAILED, EXIT_OK
from kiosk.cli_common import settings_from_args


def register(sub: Any) -> None:
    """Add ``doctor`` to ``sub``."""
    d = sub.add_parser("doctor", help="check the reader, gateway, storage, printer and trust")
    d.add_argument("--config", type=Path, help="TOML configuration file")
    d.add_argument("--data-dir", type=Path, help="the data folder (default: the config's)")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.add_argument(
        "--timeout", type=float, default=CHECK_TIMEOUT_S, help="seconds each check may take"
    )


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run every check and print the report."""
    checks = run_checks(settings_from_args(args), timeout_s=args.timeout)
    if args.json:
        print(json.dumps(to_json(checks), ensure_ascii=False, indent=2))
    else:
        print(to_text(checks))
    return EXIT_OK if is_ok(checks) else EXIT_FAILED


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"doctor": cmd_doctor}
