"""``cccd-kiosk``: read a CCCD chip from the command line.

Exit codes: 0 success, 1 the read failed (card, reader or data problem),
2 unusable arguments, 5 the access key was wrong. Errors are one line on
stderr, never a traceback. Personal data goes only to stdout or to the
``--out`` folder the user asked for, never to a log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from kiosk import access
from kiosk.emrtd.errors import AccessDenied, AccessKeyError, EmrtdError, UnsupportedProtocol
from kiosk.emrtd.session import AccessMode, ReaderSession, ReadResult
from kiosk.holder import Holder, holder_from
from kiosk.transport import CardRemoved, TransportError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ACCESS_DENIED = 5

#: Dump file names, in the order they are written.
DUMP_FILES = ("EF.CardAccess", "EF.COM", "EF.SOD", "DG1", "DG2", "DG13", "DG14", "DG15")


class UsageError(Exception):
    """Arguments that parse but cannot be used (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line and exits 2."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cccd-kiosk", description="Read Vietnamese chip ID cards (CCCD).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("read", help="read a card and print the holder's data")
    r.add_argument("--reader", default="sim:default", help="sim:NAME (default sim:default)")
    key = r.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", help="card access number: the last 6 digits of the ID number")
    key.add_argument("--mrz", help='the three MRZ lines, separated by newlines or "\\n"')
    key.add_argument("--qr", help="the text of the QR code on the card")
    key.add_argument("--id", dest="id_number", help="12-digit ID number (with --dob)")
    r.add_argument("--dob", help="date of birth YYYY-MM-DD (with --id)")
    r.add_argument("--access", choices=[m.value for m in AccessMode], default="auto")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.add_argument("--out", type=Path, help="write the raw files read to this folder")
    r.add_argument(
        "--link-kbps",
        type=int,
        choices=[0, 106, 212, 424, 848],
        default=424,
        help="simulated reader: modeled bit rate (0 = no latency model)",
    )

    d = sub.add_parser("demo", help="read a sample simulated card with its CAN (make run)")
    d.add_argument("--card", default="default")
    d.add_argument("--json", action="store_true")
    return p


def keys_from_args(args: argparse.Namespace) -> list[access.AccessKey]:
    """Turn --can / --mrz / --qr / --id+--dob into the ordered list of keys to try."""
    if args.id_number is not None:
        if not args.dob:
            raise UsageError("--id needs --dob YYYY-MM-DD")
        try:
            dob = date.fromisoformat(args.dob)
        except ValueError as exc:
            raise UsageError(f"--dob {args.dob!r} is not a date YYYY-MM-DD") from exc
        return list(access.keys_from_id_and_birth(args.id_number, dob))
    if args.dob:
        raise UsageError("--dob is used only with --id")
    if args.can is not None:
        return [access.key_from_id(args.can) if len(args.can) == 12 else access.CAN(args.can)]
    if args.mrz is not None:
        return [access.key_from_mrz(args.mrz.replace("\\n", "\n"))]
    return list(access.keys_from_qr(args.qr))


def _sim_options(args: argparse.Namespace) -> dict[str, Any]:
    from drivers.simulated import LinkModel

    kbps = getattr(args, "link_kbps", 424)
    return {"link": LinkModel.zero() if kbps == 0 else LinkModel.preset(kbps * 1000)}


def read_card(
    reader: str, keys: Sequence[access.AccessKey], mode: str, opts: dict[str, Any]
) -> tuple[ReadResult, float | None]:
    """Open the reader, run one read and return it with the modeled link time (simulator)."""
    from drivers.registry import open_transport

    transport = open_transport(reader, **(opts if reader.startswith("sim") else {}))
    try:
        result = ReaderSession(transport, access=mode).read(keys)
        modeled = getattr(transport, "modeled_seconds", None)
        return result, (float(modeled) if modeled is not None else None)
    finally:
        transport.close()


def result_json(result: ReadResult, modeled: float | None) -> dict[str, Any]:
    """The JSON document of ``read --json``."""
    holder = holder_from(result.dg13, result.dg1)
    mrz = result.dg1.mrz if result.dg1 is not None else None
    photo: dict[str, Any] | None = None
    if result.dg2 is not None and result.dg2.faces:
        face = result.dg2.faces[0]
        photo = {"format": face.image_format, "bytes": len(face.image)}
    return {
        "holder": holder.to_json(),
        "document": {
            "document_number": mrz.document_number if mrz else None,
            "mrz_lines": list(mrz.lines) if mrz else None,
        },
        "photo": photo,
        "read": {
            "access": result.access_protocol,
            "apdus": result.apdus,
            "bytes": result.bytes_total,
            "modeled_seconds": round(modeled, 4) if modeled is not None else None,
            "protected": list(result.protected),
            "absent": list(result.absent),
            "parse_errors": result.parse_errors,
        },
    }


_LABELS = (
    ("id_number", "Số định danh / ID number"),
    ("full_name", "Họ và tên / Full name"),
    ("date_of_birth", "Ngày sinh / Date of birth"),
    ("sex", "Giới tính / Sex"),
    ("nationality", "Quốc tịch / Nationality"),
    ("ethnicity", "Dân tộc / Ethnicity"),
    ("religion", "Tôn giáo / Religion"),
    ("place_of_origin", "Quê quán / Place of origin"),
    ("place_of_residence", "Nơi thường trú / Residence"),
    ("identifying_marks", "Đặc điểm nhận dạng / Marks"),
    ("date_of_issue", "Ngày cấp / Date of issue"),
    ("date_of_expiry", "Có giá trị đến / Valid until"),
    ("father_name", "Họ tên cha / Father"),
    ("mother_name", "Họ tên mẹ / Mother"),
    ("spouse_name", "Vợ/chồng / Spouse"),
    ("old_id_number", "Số CMND cũ / Old ID number"),
)


def format_text(holder: Holder, doc: dict[str, Any]) -> str:
    """Human-readable card contents, Vietnamese label first."""
    data = holder.to_json()
    width = max(len(label) for _, label in _LABELS)
    lines = []
    for key, label in _LABELS:
        value = data[key]
        if key == "date_of_expiry" and value is None:
            value = "Không thời hạn / No expiry"
        lines.append(f"{label:<{width}}  {value if value is not None else '—'}")
    read = doc["read"]
    photo = doc["photo"]
    lines.append("")
    if photo:
        lines.append(f"Ảnh / Photo: {photo['format'].upper()}, {photo['bytes']} bytes")
    extra = f", {read['modeled_seconds']:.2f} s modeled" if read["modeled_seconds"] else ""
    lines.append(
        f"Đọc / Read: {read['access']}, {read['apdus']} APDUs, {read['bytes']} bytes{extra}"
    )
    if read["protected"]:
        lines.append(f"Được bảo vệ / Protected (not read): {', '.join(read['protected'])}")
    return "\n".join(lines)


def write_dump(out: Path, result: ReadResult) -> None:
    """Write the raw files (outer TLV included) and the photo; owner-only permissions."""
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    for name in DUMP_FILES:
        raw = result.files.get(name)
        if raw is not None:
            _write_private(out / name, raw)
    if result.dg2 is not None and result.dg2.faces:
        face = result.dg2.faces[0]
        ext = "jpg" if face.image_format == "jpeg" else "jp2"
        _write_private(out / f"DG2.{ext}", face.image)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _emit(result: ReadResult, modeled: float | None, as_json: bool) -> None:
    doc = result_json(result, modeled)
    if as_json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(format_text(holder_from(result.dg13, result.dg1), doc))


def cmd_read(args: argparse.Namespace) -> int:
    keys = keys_from_args(args)
    result, modeled = read_card(args.reader, keys, args.access, _sim_options(args))
    if args.out is not None:
        write_dump(args.out, result)
    _emit(result, modeled, args.json)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from drivers.registry import ReaderSpecError
    from simulators.card.profile import UnknownProfile, load_profile

    try:
        profile = load_profile(args.card)
    except UnknownProfile as exc:
        raise ReaderSpecError(f"no simulated card named {args.card!r}") from exc
    keys = [access.key_from_id(profile.id_number)]
    print(f"Thẻ mô phỏng / Simulated card: {args.card} (CAN {keys[0].value})", file=sys.stderr)
    result, modeled = read_card(f"sim:{args.card}", keys, "auto", _sim_options(args))
    _emit(result, modeled, args.json)
    return EXIT_OK


def _fail(code: int, message: str) -> int:
    print(f"cccd-kiosk: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    from drivers.registry import ReaderSpecError

    args = build_parser().parse_args(argv)
    handler = {"read": cmd_read, "demo": cmd_demo}[args.command]
    try:
        return handler(args)
    except (UsageError, ReaderSpecError) as exc:
        return _fail(EXIT_USAGE, str(exc))
    except AccessKeyError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except AccessDenied as exc:
        return _fail(EXIT_ACCESS_DENIED, f"access denied — check the CAN / MRZ ({exc})")
    except UnsupportedProtocol as exc:
        return _fail(EXIT_FAILED, str(exc))
    except CardRemoved:
        return _fail(EXIT_FAILED, "the card was removed during the read — place it again")
    except (TransportError, EmrtdError) as exc:
        return _fail(EXIT_FAILED, f"read failed: {exc}")
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        return _fail(EXIT_FAILED, f"cannot write or read a file: {exc.strerror or exc}")
    except Exception as exc:  # last resort: one line, never a traceback
        return _fail(EXIT_FAILED, f"internal error ({type(exc).__name__}); please report it")


if __name__ == "__main__":
    sys.exit(main())
