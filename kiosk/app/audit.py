"""The operator audit trail as the front-ends use it (:mod:`offline_cache.audit` stores it).

:class:`kiosk.app.kiosk.Kiosk` records what its own methods do (manual check-ins, exports,
reprints) and what a front-end tells it (:meth:`Kiosk.audit`: the settings screen's mode
switch, wrong PINs and lock-outs). A command that builds no kiosk (``set-pin``) records with
:func:`record_in`; ``cccd-kiosk audit`` reads with :func:`open_trail`. Who is named:
``operator`` (behind the PIN), ``reception`` (the reception screens), ``user:NAME`` (the OS
account that ran a command). A trail that cannot be written is logged (by class name) and never
stops a check-in.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.app.storage import JOURNAL_DB, Storage, has_journal
from kiosk.config import StorageConfig
from offline_cache.audit import ACTIONS, AuditEntry, AuditLog, Verification
from offline_cache.journal import VIETNAM_TZ

#: The time zone the trail is shown in (the journal's: the clinic's local time).
LOCAL_TZ = VIETNAM_TZ

log = logging.getLogger(__name__)


def os_actor() -> str:
    """``user:NAME`` for the account running this process (``user:unknown`` if none)."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


@contextlib.contextmanager
def open_trail(folder: Path, settings: StorageConfig | None = None) -> Iterator[AuditLog]:
    """The audit trail of the data folder ``folder`` (its storage opened, then closed)."""
    storage = Storage.open(folder, settings or StorageConfig())
    try:
        with AuditLog(folder / JOURNAL_DB, storage.sealer) as trail:
            yield trail
    finally:
        storage.close()


def record_in(
    folder: Path, action: str, *, actor: str | None = None, target: str = "", **detail: Any
) -> None:
    """Append one row to ``folder``'s trail (best effort: a failure is logged). Only into a
    folder that already holds a journal: a command must not create the storage (its key,
    owned by whoever ran it) just to audit itself — before the first check-in there is no
    trail, and :func:`record_in` says so in the log."""
    if not has_journal(folder):
        log.info("audit: %s not recorded (no journal in the data folder yet)", action)
        return
    try:
        with open_trail(folder) as trail:
            trail.record(action, actor=actor or os_actor(), target=target, detail=detail)
    except Exception as exc:
        log.error("audit: %s not recorded (%s)", action, type(exc).__name__)


__all__ = [
    "ACTIONS",
    "LOCAL_TZ",
    "AuditEntry",
    "AuditLog",
    "Verification",
    "open_trail",
    "os_actor",
    "record_in",
]
