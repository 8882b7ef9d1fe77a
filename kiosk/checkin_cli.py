"""``cccd-kiosk checkin`` and ``cccd-kiosk export``: the check-in pipeline from the command line.

:func:`register` adds both subcommands to ``kiosk.cli``'s parser and :data:`HANDLERS` maps
them to their functions; ``kiosk.cli.main`` runs them with the same error handling and exit
codes as ``read`` (0 done — also when the patient is not eligible or staff must be asked —,
1 the read failed, 2 unusable arguments, 5 wrong access key).

``--data-dir`` holds the eligibility cache (:data:`CACHE_DB`), the journal
(:data:`JOURNAL_DB`) and the storage key; gateway credentials come only from the environment
(``CCCD_KIOSK_BHXH_USERNAME``, ``…_PASSWORD``, ``…_STAFF_NAME``, ``…_STAFF_CCCD``;
``CCCD_KIOSK_FHIR_TOKEN`` for a FHIR server). Personal
data goes to stdout only, never to a log.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import GATEWAY_KINDS, READER_HELP, Config

if TYPE_CHECKING:
    from kiosk.checkin import CheckInOutcome
    from kiosk.eligibility.base import EligibilityBackend

#: Bearer token for a FHIR eligibility server (optional; environment only).
FHIR_TOKEN_ENV = "CCCD_KIOSK_FHIR_TOKEN"
#: File names inside the data directory.
CACHE_DB = "cache.db"
JOURNAL_DB = "journal.db"


logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``checkin`` and ``export`` subcommands to ``kiosk.cli``'s subparsers."""
    c = sub.add_parser("checkin", help="check a patient in: read, verify, ask BHXH, journal")
    c.add_argument("--reader", help=f"{READER_HELP} (default: the config file's, else sim:default)")
    c.add_argument("--config", type=Path, help="TOML configuration file")
    key = c.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", help="card access number: the last 6 digits of the ID number")
    key.add_argument("--mrz", help='the three MRZ lines, separated by newlines or "\\n"')
    key.add_argument("--qr", help="the text of the QR code on the CCCD")
    key.add_argument("--id", dest="id_number", help="12-digit ID number (with --dob)")
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
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="CSCA certificate, master list, CRL or folder (repeatable); "
        "'demo' = the simulator's test CSCA (default for sim: readers)",
    )
    c.add_argument(
        "--link-kbps",
        type=int,
        choices=[0, 106, 212, 424, 848],
        default=424,
        help="simulated reader: modeled bit rate (0 = no latency model)",
    )
    c.add_argument("--json", action="store_true", help="print JSON")

    e = sub.add_parser("export", help="print one day's check-ins for staff (CSV or JSON)")
    e.add_argument("--date", required=True, help="the day, YYYY-MM-DD (local time)")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    e.add_argument("--config", type=Path, help="TOML configuration file")

    o = sub.add_parser("outbox", help="send waiting check-ins to the hospital system (HIS)")
    o.add_argument("--url", help="the HIS check-in endpoint (default: [his] url)")
    o.add_argument("--format", choices=["xml130", "fhir"], help="default: [his] format")
    o.add_argument("--data-dir", type=Path, help="cache, journal and key folder")
    o.add_argument("--config", type=Path, help="TOML configuration file")


# ---- setup -----------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Config:
    if getattr(args, "config", None) is None:
        return Config()
    from kiosk.config import load_config

    return load_config(args.config)


def data_dir(args: argparse.Namespace, config: Config) -> Path:
    """``--data-dir``, else ``[storage] data_dir``, else the user data directory."""
    if args.data_dir is not None:
        return Path(args.data_dir)
    if config.storage.data_dir:
        return Path(config.storage.data_dir).expanduser()
    from offline_cache.store import default_data_dir

    return default_data_dir()


def make_backend(url: str | None, kind: str, config: Config) -> EligibilityBackend | None:
    """The gateway client for ``url`` (None when no gateway is configured).

    Raises :class:`kiosk.cli.UsageError` when the environment lacks the credentials.
    """
    from kiosk.cli import UsageError
    from kiosk.eligibility.errors import ConfigurationError

    if not url:
        return None
    gw = config.gateway
    try:
        if kind == "fhir":
            from kiosk.eligibility.fhir import FhirEligibilityClient

            return FhirEligibilityClient(
                url,
                token=os.environ.get(FHIR_TOKEN_ENV) or None,
                connect_timeout=gw.connect_timeout_s,
                total_timeout=gw.timeout_s,
            )
        from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig

        options: dict[str, Any] = {
            "api_version": gw.api_version,
            "connect_timeout": gw.connect_timeout_s,
            "total_timeout": gw.timeout_s,
        }
        if gw.ca_bundle:
            options["ca_bundle"] = gw.ca_bundle
        return BhxhClient(BhxhConfig.from_env(url, **options))
    except ConfigurationError as exc:
        raise UsageError(f"gateway: {exc}") from exc


def _json_outcome(out: CheckInOutcome, modeled: float | None) -> dict[str, Any]:
    """``read --json``'s document (chip) or the typed/QR holder, plus the check-in."""
    from kiosk.cli import result_json

    doc: dict[str, Any]
    if out.read is not None:
        doc = result_json(out.read, modeled)
    else:
        doc = {"holder": out.holder.to_json() if out.holder else None}
    if out.bhyt_card is not None:
        card = out.bhyt_card
        doc["bhyt_card"] = {
            "card_number": card.card_number,
            "full_name": card.full_name,
            "date_of_birth": card.date_of_birth.isoformat() if card.date_of_birth else None,
            "birth_year": card.birth_year,
            "sex": card.sex,
            "address": card.address,
            "registered_clinic": card.registered_clinic,
            "valid_from": card.valid_from.isoformat() if card.valid_from else None,
            "valid_to": card.valid_to.isoformat() if card.valid_to else None,
        }
    el = out.eligibility.to_json()
    doc["eligibility"] = {
        k: el[k]
        for k in (
            "status",
            "code",
            "message",
            "source",
            "as_of",
            "stale",
            "valid_from",
            "valid_to",
            "registered_clinic",
            "advice_vi",
            "advice_en",
        )
    }
    doc["eligibility"]["age_seconds"] = (
        int(out.cache_age.total_seconds()) if out.cache_age is not None else None
    )
    doc["checkin_id"] = out.checkin_id
    doc["queue_number"] = out.queue_number
    doc["method"] = out.method
    doc["chip_verified"] = out.chip_verified
    return doc


_STATUS = {
    "eligible": "✔ Thẻ BHYT hợp lệ / BHYT card valid",
    "not_eligible": "✘ Không đủ điều kiện / Not eligible",
    "unknown": "? Chưa rõ — hỏi nhân viên / Unknown — ask staff",
}


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


def format_outcome(out: CheckInOutcome, doc: dict[str, Any]) -> str:
    """The check-in as text: the holder (chip reads as ``read`` prints them), then the answer."""
    from kiosk.cli import format_text

    lines: list[str] = []
    if out.read is not None and out.holder is not None:
        lines.append(format_text(out.holder, doc))
    elif out.bhyt_card is not None:
        lines.append(f"Họ và tên / Full name  {out.bhyt_card.full_name}")
        lines.append(f"Số thẻ BHYT / BHYT card  {out.bhyt_card.card_number}")
    elif out.holder is not None:
        lines.append(f"Số định danh / ID number  {out.holder.id_number}")
        lines.append(f"Họ và tên / Full name  {out.holder.full_name}")
    if not out.chip_verified:
        lines.append("Không xác thực bằng chip / Not chip-verified")
    el = out.eligibility
    lines.append("")
    lines.append(f"Bảo hiểm y tế / Health insurance: {_STATUS[el.status]}")
    if el.code is not None:
        lines.append(f"    mã / code {el.code}: {el.message or ''}")
    lines.append(f"    {el.advice_vi}")
    lines.append(f"    {el.advice_en}")
    if el.valid_from or el.valid_to:
        lines.append(f"    hiệu lực / valid {el.valid_from or '…'} → {el.valid_to or '…'}")
    if el.registered_clinic:
        lines.append(f"    nơi ĐKKCB / registered clinic {el.registered_clinic}")
    if el.source == "cache":
        age = f", {_age(out.cache_age)} old" if out.cache_age is not None else ""
        stale = " — CŨ / STALE" if el.stale else ""
        lines.append(f"    kết quả lưu / saved answer from {el.as_of:%Y-%m-%d %H:%M}Z{age}{stale}")
    lines.append("")
    lines.append(f"Số thứ tự / Queue number: {out.queue_number}   ({out.checkin_id})")
    return "\n".join(lines)


# ---- handlers ----------------------------------------------------------------------------


def _manual_args(args: argparse.Namespace) -> tuple[str, str, date]:
    from kiosk.cli import UsageError

    if not (args.id_number and args.name and args.dob):
        raise UsageError("--manual needs --id, --name and --dob YYYY-MM-DD")
    try:
        dob = date.fromisoformat(args.dob)
    except ValueError as exc:
        raise UsageError(f"--dob {args.dob!r} is not a date YYYY-MM-DD") from exc
    return args.id_number, args.name, dob


def cmd_checkin(args: argparse.Namespace) -> int:
    """Run one check-in and print it; exit 0 whatever the eligibility answer."""
    from kiosk import cli
    from kiosk.checkin import CheckInPipeline
    from offline_cache.cache import EligibilityCache
    from offline_cache.crypto import Sealer, StorageError, load_or_create_key
    from offline_cache.journal import Journal

    if args.name and not args.manual:
        raise cli.UsageError("--name is used only with --manual")
    config = _config(args)
    manual = _manual_args(args) if args.manual else None
    if args.bhyt_qr is not None or manual is not None:
        if args.reader:
            raise cli.UsageError("--reader is not used with --bhyt-qr or --manual")
        keys = None
    else:
        keys = cli.keys_from_args(args)
    backend = make_backend(
        args.gateway or config.gateway.url, args.gateway_kind or config.gateway.kind, config
    )
    folder = data_dir(args, config)
    try:
        sealer = Sealer(load_or_create_key(folder))
        cache = EligibilityCache(
            folder / CACHE_DB,
            sealer,
            ttl=timedelta(hours=config.storage.cache_ttl_hours),
            max_stale=timedelta(days=config.storage.max_stale_days),
        )
        journal = Journal(folder / JOURNAL_DB, sealer)
    except StorageError as exc:
        return cli._fail(cli.EXIT_FAILED, f"storage: {exc}")
    modeled: float | None = None
    # The client gives up after its own budget; the pipeline waits a little longer.
    wait = config.gateway.timeout_s + 1.0
    try:
        if keys is None:
            pipeline = CheckInPipeline(backend, cache, journal, eligibility_timeout=wait)
            with pipeline:
                if manual is not None:
                    out = pipeline.checkin_manual(*manual)
                else:
                    out = pipeline.checkin_bhyt_qr(args.bhyt_qr)
        else:
            out, modeled = _checkin_card(args, backend, cache, journal, keys, wait)
    except StorageError as exc:
        return cli._fail(cli.EXIT_FAILED, f"storage: {exc}")
    finally:
        cache.close()
        journal.close()
    if config.his.url:
        # Best effort: the check-in is journaled; whatever the HIS does not take now waits in
        # the outbox for the next check-in or `cccd-kiosk outbox`.
        try:
            drain_outbox(folder, config.his.url, config.his.format)
        except Exception as exc:  # never lose a check-in's answer over the HIS
            logger.warning("HIS delivery postponed: %s", type(exc).__name__)
    doc = _json_outcome(out, modeled)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(format_outcome(out, doc))
    return cli.EXIT_OK


def _checkin_card(
    args: argparse.Namespace,
    backend: EligibilityBackend | None,
    cache: Any,
    journal: Any,
    keys: Sequence[Any],
    wait: float,
) -> tuple[CheckInOutcome, float | None]:
    from drivers.registry import open_transport
    from kiosk import cli
    from kiosk.checkin import CheckInPipeline
    from kiosk.transport import CardRemoved

    reader = cli.resolve_reader(args)
    paths = list(args.trust) or list(_config(args).trust.paths)
    trust = cli.load_trust(paths, demo=cli._is_sim(reader) and not paths)
    try:
        opts = cli._sim_options(args) if reader.startswith("sim") else {}
        transport = open_transport(reader, **opts)
    except CardRemoved as exc:
        raise cli.NoCard(str(exc)) from exc
    try:
        with CheckInPipeline(
            backend, cache, journal, trust=trust, eligibility_timeout=wait
        ) as pipeline:
            out = pipeline.checkin_card(transport, keys)
        modeled = getattr(transport, "modeled_seconds", None)
        return out, (float(modeled) if modeled is not None else None)
    finally:
        transport.close()


def cmd_export(args: argparse.Namespace) -> int:
    """Print one local day's check-ins (decrypted) as CSV or JSON for staff."""
    from kiosk import cli
    from offline_cache.crypto import Sealer, StorageError, load_or_create_key
    from offline_cache.export import export_day
    from offline_cache.journal import Journal

    try:
        day = date.fromisoformat(args.date)
    except ValueError as exc:
        raise cli.UsageError(f"--date {args.date!r} is not a date YYYY-MM-DD") from exc
    folder = data_dir(args, _config(args))
    if not (folder / JOURNAL_DB).exists():
        raise cli.UsageError(f"{folder}: no check-in journal here (see --data-dir)")
    try:
        journal = Journal(folder / JOURNAL_DB, Sealer(load_or_create_key(folder)))
    except StorageError as exc:
        return cli._fail(cli.EXIT_FAILED, f"storage: {exc}")
    try:
        sys.stdout.write(export_day(journal, day, args.format))
    finally:
        journal.close()
    return cli.EXIT_OK


def drain_outbox(folder: Path, url: str, payload_format: str) -> Any:
    """Send the journal's waiting check-ins to the HIS once; returns the DrainReport."""
    from offline_cache.crypto import Sealer, load_or_create_key
    from offline_cache.outbox import Outbox

    outbox = Outbox(
        folder / JOURNAL_DB,
        Sealer(load_or_create_key(folder)),
        url=url,
        payload_format=payload_format,  # type: ignore[arg-type]
    )
    try:
        return outbox.drain()
    finally:
        outbox.close()


def cmd_outbox(args: argparse.Namespace) -> int:
    """Deliver waiting check-ins (idempotency key = check-in id, at least once); run it from
    a timer. Exit 0 when nothing is left waiting, 1 when the HIS did not take everything."""
    from kiosk import cli
    from offline_cache.crypto import StorageError

    config = _config(args)
    url = args.url or config.his.url
    if not url:
        raise cli.UsageError("no HIS address: give --url or set [his] url in the config file")
    folder = data_dir(args, config)
    if not (folder / JOURNAL_DB).exists():
        raise cli.UsageError(f"{folder}: no check-in journal here (see --data-dir)")
    try:
        report = drain_outbox(folder, url, args.format or config.his.format)
    except StorageError as exc:
        return cli._fail(cli.EXIT_FAILED, f"storage: {exc}")
    print(
        f"Đã gửi / delivered {report.delivered}, lỗi / failed attempts {report.failed}, "
        f"còn chờ / waiting {report.pending}"
    )
    return cli.EXIT_OK if report.pending == 0 else cli.EXIT_FAILED


#: Subcommand → handler, for ``kiosk.cli.main``'s dispatch table.
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "checkin": cmd_checkin,
    "export": cmd_export,
    "outbox": cmd_outbox,
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kiosk.checkin_cli checkin|export …``: these subcommands on their own, with
    ``kiosk.cli``'s exit codes (``cccd-kiosk`` runs the same handlers once wired in)."""
    from drivers.registry import ReaderSpecError
    from kiosk import cli
    from kiosk.cccd.bhyt_qr import BhytQRError
    from kiosk.config import ConfigError
    from kiosk.emrtd.errors import AccessDenied, AccessKeyError, EmrtdError
    from kiosk.emrtd.trust import TrustStoreError
    from kiosk.transport import CardRemoved, TransportError

    parser = cli._Parser(prog="cccd-kiosk", description="Check patients in.")
    register(parser.add_subparsers(dest="command", required=True, parser_class=cli._Parser))
    args = parser.parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except (cli.UsageError, ReaderSpecError, ConfigError, TrustStoreError) as exc:
        return cli._fail(cli.EXIT_USAGE, str(exc))
    except (AccessKeyError, BhytQRError) as exc:
        return cli._fail(cli.EXIT_USAGE, str(exc))
    except AccessDenied as exc:
        return cli._fail(cli.EXIT_ACCESS_DENIED, f"access denied — check the CAN / MRZ ({exc})")
    except cli.NoCard:
        return cli._fail(cli.EXIT_FAILED, "no card on the reader — Đặt thẻ lên đầu đọc")
    except CardRemoved:
        return cli._fail(cli.EXIT_FAILED, "the card was removed during the read — Đặt lại thẻ")
    except (TransportError, EmrtdError) as exc:
        return cli._fail(cli.EXIT_FAILED, f"read failed: {exc}")
    except OSError as exc:
        return cli._fail(cli.EXIT_FAILED, f"cannot write or read a file: {exc.strerror or exc}")


if __name__ == "__main__":
    sys.exit(main())
