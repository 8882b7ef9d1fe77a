"""``cccd-kiosk db upgrade|status``: the storage's schema version, and bringing it up to date.

``status`` prints the adapter (``sqlite``/``postgresql``), the database's schema version and
the one this code needs (``--json``: ``{"adapter", "current", "target", "up_to_date"}``);
exit 0 when they match, 1 when not. ``upgrade`` applies the missing migrations — on
PostgreSQL as the owner role (``--url``, else ``$CCCD_KIOSK_DATABASE_URL`` or ``[storage]
url``), which kiosks' own roles cannot do — and refuses a database newer than this code;
an SQLite data folder with no journal yet is left alone (the first check-in makes it).
Errors are the error table's one line (``SchemaTooNew``, ``StorageUnreachable``…).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.app.messages import EXIT_FAILED, EXIT_OK
from kiosk.app.settings import data_folder
from kiosk.app.storage import schema_status, upgrade_schema
from kiosk.cli_common import settings_from_args


def register(sub: Any) -> None:
    """Add ``db upgrade`` and ``db status`` to ``sub``."""
    db = sub.add_parser("db", help="the storage's schema: status, upgrade")
    dsub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("status", "the schema version of the storage against this code's"),
        ("upgrade", "apply the missing schema migrations (PostgreSQL: as the owner role)"),
    ):
        p = dsub.add_parser(name, help=text)
        p.add_argument("--config", type=Path, help="TOML configuration file")
        p.add_argument("--data-dir", type=Path, help="the data folder (default: the config's)")
        p.add_argument(
            "--database-url",
            dest="database_url",
            help="postgresql:// URL (default: $CCCD_KIOSK_DATABASE_URL, then [storage] url)",
        )
        p.add_argument("--json", action="store_true", help="print JSON")


def cmd_db(args: argparse.Namespace) -> int:
    """Print the schema status, after upgrading it for ``db upgrade``."""
    if getattr(args, "config", None) is None and getattr(args, "kiosk_config", None):
        args.config = args.kiosk_config  # `cccd-kiosk --config FILE db upgrade` works too
    settings = settings_from_args(args)
    folder = data_folder(settings)
    storage = settings.config.storage
    url = args.database_url or None
    applied = None
    if args.db_command == "upgrade":
        applied, st = upgrade_schema(folder, storage, url)
    else:
        st = schema_status(folder, storage, url)
    if args.json:
        doc: dict[str, Any] = {
            "adapter": st.adapter,
            "current": st.current,
            "target": st.target,
            "up_to_date": st.up_to_date,
        }
        if applied is not None:
            doc["applied"] = applied
        print(json.dumps(doc))
    else:
        state = "up to date" if st.up_to_date else "needs: cccd-kiosk db upgrade"
        if st.current > st.target:
            state = "newer than this kiosk: update the kiosk software"
        line = f"{st.adapter}: schema version {st.current} (this kiosk needs {st.target}) — {state}"
        if applied is not None:
            line = f"applied {applied} migration(s); " + line
        print(line)
    return EXIT_OK if st.up_to_date else EXIT_FAILED


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"db": cmd_db}
