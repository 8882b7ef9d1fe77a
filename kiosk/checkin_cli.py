"""``cccd-kiosk checkin``, ``export``, ``outbox``, ``purge``: the check-ins from the command line.

:func:`register` adds the subcommands to :mod:`kiosk.cli`'s parser and :data:`HANDLERS` maps
them to their functions; :func:`kiosk.cli.main` runs them with the one error table's messages
and exit codes (0 done — also when the patient is not eligible or staff must be asked —,
1 the read failed, 2 unusable arguments, 5 wrong access key).

``--data-dir`` holds the eligibility cache, the journal and the storage key (default: the
kiosk's data folder rule, :func:`kiosk.app.settings.data_folder`); gateway credentials come
only from the environment (``CCCD_KIOSK_BHXH_USERNAME``, ``…_PASSWORD``, ``…_STAFF_NAME``,
``…_STAFF_CCCD``; ``CCCD_KIOSK_FHIR_TOKEN`` for a FHIR server). Personal data goes to stdout
only, never to a log.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import EXIT_FAILED, EXIT_OK, cli_line
from kiosk.app.reports import CheckInReport
from kiosk.cli_common import (
    add_key_args,
    add_reader_args,
    keys_from_args,
    link_kbps,
    parse_day,
    settings_from_args,
)
from kiosk.config import GATEWAY_KINDS


def register(sub: Any) -> None:
    """Add the ``checkin``, ``export``, ``outbox`` and ``purge`` subcommands to ``sub``."""
    c = sub.add_parser("checkin", help="check a patient in: read, verify, ask BHXH, journal")
    add_reader_args(c)
    key = c.add_mutually_exclusive_group(required=True)
    add_key_args(key)
    key.add_argument("--bhyt-qr", help="the text of the BHYT card QR (no chip read)")
    c.add_argument("--dob", help="date of birth YYYY-MM-DD (with --id)")
    c.add_argument(
        "--manual", action="store_true", help="reception mode: --id, --name and --dob typed in"
    )
    c.add_argument("--name", help="full name (with --manual)")
    c.add_argument("--gateway", help="eligibility gateway URL (default: the config file's)")
    c.add_argument("--gateway-kind", choices=GATEWAY_KINDS, help="default: bhxh")
    c.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    c.add_argument(
        "--department",
        metavar="CODE",
        help="the department the patient queues for (a [[departments]] code; needed when "
        "several are configured)",
    )
    c.add_argument("--json", action="store_true", help="print JSON")

    e = sub.add_parser("export", help="print one day's check-ins for staff (CSV or JSON)")
    e.add_argument("--date", required=True, help="the day, YYYY-MM-DD (local time)")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    e.add_argument("--config", type=Path, help="TOML configuration file")

    t = sub.add_parser("ticket", help="print (again) the queue ticket of a check-in")
    t.add_argument("checkin_id", help="the check-in id (on the ticket's QR, in export, --json)")
    t.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    t.add_argument("--config", type=Path, help="TOML configuration file ([printer])")

    o = sub.add_parser("outbox", help="send waiting check-ins to the hospital system (HIS)")
    o.add_argument("--url", help="the HIS check-in endpoint (default: [his] url)")
    o.add_argument(
        "--format", dest="his_format", choices=["xml130", "fhir"], help="default: [his] format"
    )
    o.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    o.add_argument("--config", type=Path, help="TOML configuration file")

    p = sub.add_parser(
        "purge", help="apply retention now: delete check-ins and cached answers past their time"
    )
    p.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    p.add_argument("--config", type=Path, help="TOML configuration file")


def cmd_checkin(args: argparse.Namespace) -> int:
    """Run one check-in and print it; exit 0 whatever the eligibility answer."""
    if args.name and not args.manual:
        raise UsageError("--name is used only with --manual")
    manual = None
    if args.manual:
        if not (args.id_number and args.name and args.dob):
            raise UsageError("--manual needs --id, --name and --dob YYYY-MM-DD")
        manual = (args.id_number, args.name, parse_day(args.dob, "--dob"))
    no_chip = args.bhyt_qr is not None or manual is not None
    if no_chip and args.reader:
        raise UsageError("--reader is not used with --bhyt-qr or --manual")
    keys = None if no_chip else keys_from_args(args)
    with Kiosk(settings_from_args(args), link_kbps=link_kbps(args)) as kiosk:
        department = args.department
        if department is None and kiosk.needs_department:
            known = ", ".join(d.code for d in kiosk.departments)
            raise UsageError(
                f"several departments are configured: choose one with --department ({known})"
            )
        report: CheckInReport
        if manual is not None:
            report = kiosk.checkin_manual(*manual, department=department)
        elif keys is None:
            report = kiosk.checkin_bhyt(args.bhyt_qr, department=department)
        else:
            report = kiosk.checkin_card(keys, department=department)
        if kiosk.prints_tickets:
            _print_ticket(kiosk, report.outcome.checkin_id)
        kiosk.deliver_pending()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    return EXIT_OK


def _print_ticket(kiosk: Kiosk, checkin_id: str) -> None:
    """Print the ticket; a printer problem is one line on stderr, the check-in stands."""
    problem = kiosk.try_print_ticket(checkin_id)
    if problem is not None:
        print(f"cccd-kiosk: {cli_line(problem)}", file=sys.stderr)


def cmd_ticket(args: argparse.Namespace) -> int:
    """Reprint a check-in's ticket (reception, after paper ran out or a ticket was lost)."""
    with Kiosk(settings_from_args(args), demo_gateway=False) as kiosk:
        _existing_journal(kiosk)
        kiosk.print_ticket(args.checkin_id, reprint=True)
    print(f"Đã in phiếu / Ticket printed: {args.checkin_id}", file=sys.stderr)
    return EXIT_OK


def _existing_journal(kiosk: Kiosk) -> None:
    if not kiosk.has_journal:
        raise UsageError(f"{kiosk.data_dir}: no check-in journal here (see --data-dir)")


def cmd_export(args: argparse.Namespace) -> int:
    """Print one local day's check-ins (decrypted) as CSV or JSON for staff."""
    day = parse_day(args.date, "--date")
    with Kiosk(settings_from_args(args), demo_gateway=False) as kiosk:
        _existing_journal(kiosk)
        sys.stdout.write(kiosk.export_day(day, args.format))
        _report_quarantine(kiosk.quarantined())
    return EXIT_OK


def _report_quarantine(count: int) -> None:
    """Tell staff (stderr) about check-ins left out because their data does not open."""
    if count:
        print(
            f"{count} lượt đăng ký không mở được (đã cách ly) — báo quản trị viên / "
            f"{count} check-ins do not open (quarantined) — tell the administrator",
            file=sys.stderr,
        )


def cmd_outbox(args: argparse.Namespace) -> int:
    """Deliver waiting check-ins (idempotency key = check-in id, at least once); run it from
    a timer. Exit 0 when nothing is left waiting, 1 when the HIS did not take everything."""
    with Kiosk(settings_from_args(args), demo_gateway=False) as kiosk:
        if not kiosk.config.his.url:
            raise UsageError("no HIS address: give --url or set [his] url in the config file")
        _existing_journal(kiosk)
        report = kiosk.drain_outbox()
    print(
        f"Đã gửi / delivered {report.delivered}, lỗi / failed attempts {report.failed}, "
        f"còn chờ / waiting {report.pending}"
    )
    _report_quarantine(report.quarantined)
    return EXIT_OK if report.pending == 0 else EXIT_FAILED


def cmd_purge(args: argparse.Namespace) -> int:
    """Apply retention now (the kiosk also does at every start): ``[storage] retention_days``
    for check-ins (delivered ones; all of them without ``[his] url``), ``max_stale_days``
    for cached answers. Prints the counts; quarantined check-ins still kept go to stderr."""
    with Kiosk(settings_from_args(args), demo_gateway=False, purge_at_start=False) as kiosk:
        _existing_journal(kiosk)
        report = kiosk.purge()
        days = kiosk.config.storage.retention_days
    print(
        f"Đã xóa / deleted: {report.checkins} lượt đăng ký / check-ins older than {days} days, "
        f"{report.quarantined} hỏng / quarantined, {report.cached} câu trả lời lưu tạm / "
        "cached answers"
    )
    _report_quarantine(report.quarantined_left)
    return EXIT_OK


#: Subcommand → handler, for :func:`kiosk.cli.main`'s dispatch table.
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "checkin": cmd_checkin,
    "export": cmd_export,
    "outbox": cmd_outbox,
    "ticket": cmd_ticket,
    "purge": cmd_purge,
}
