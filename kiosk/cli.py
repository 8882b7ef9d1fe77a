"""``cccd-kiosk``: read a CCCD chip from the command line.

Exit codes: 0 success, 1 the read failed (card, reader or data problem),
2 unusable arguments, 5 the access key was wrong. Errors are one line on
stderr, never a traceback. Personal data goes only to stdout or to the
``--out`` folder the user asked for, never to a log.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from kiosk import checkin_cli
from kiosk.cccd import access
from kiosk.cccd.holder import Holder, holder_from
from kiosk.config import READER_HELP
from kiosk.emrtd.certs import PassiveAuthError
from kiosk.emrtd.errors import AccessDenied, AccessKeyError, EmrtdError, UnsupportedProtocol
from kiosk.emrtd.session import AccessMode, ReaderSession, ReadResult
from kiosk.emrtd.trust import TrustStore, TrustStoreError
from kiosk.transport import CardRemoved, TransportError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ISSUER_UNKNOWN = 3
EXIT_NOT_GENUINE = 4
EXIT_ACCESS_DENIED = 5

#: ``--trust demo``: the simulator's test CSCA (what demo mode trusts).
DEMO_TRUST = "demo"

#: Dump file names, in the order they are written.
DUMP_FILES = ("EF.CardAccess", "EF.COM", "EF.SOD", "DG1", "DG2", "DG13", "DG14", "DG15")
#: Active Authentication challenge and response, so a dump can be re-verified offline.
AA_EVIDENCE = "AA.json"
#: The APDU log (only with --evidence).
APDU_LOG = "apdu-log.json"


class UsageError(Exception):
    """Arguments that parse but cannot be used (exit 2)."""


class NoCard(Exception):
    """The reader is there but holds no card (exit 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line and exits 2."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cccd-kiosk",
        description="Check patients in with Vietnamese chip ID cards (CCCD). With no command: "
        "the kiosk (the Qt screens, or the terminal flow when there is no display).",
    )
    p.add_argument("--config", dest="kiosk_config", type=Path, help="TOML configuration file")
    sub = p.add_subparsers(dest="command", required=False, parser_class=_Parser)

    r = sub.add_parser("read", help="read a card, verify it and print the holder's data")
    r.add_argument("--reader", help=f"{READER_HELP} (default: the config file's, else sim:default)")
    r.add_argument("--config", type=Path, help="TOML configuration file")
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
        "--evidence",
        action="store_true",
        help="with --out: also write the APDU log with its plaintext views (personal data)",
    )
    r.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="CSCA certificate, master list, CRL or folder (repeatable); "
        "'demo' = the simulator's test CSCA (default for sim: readers)",
    )
    r.add_argument(
        "--link-kbps",
        type=int,
        choices=[0, 106, 212, 424, 848],
        default=424,
        help="simulated reader: modeled bit rate (0 = no latency model)",
    )

    v = sub.add_parser("verify", help="re-verify a dump written by read --out")
    v.add_argument("dir", type=Path, help="the dump folder")
    v.add_argument("--trust", action="append", default=[], metavar="PATH")
    v.add_argument("--json", action="store_true")

    d = sub.add_parser("demo", help="read a sample simulated card with its CAN (make run)")
    d.add_argument("--card", default="default")
    d.add_argument("--json", action="store_true")
    checkin_cli.register(sub)
    return p


def keys_from_args(args: argparse.Namespace) -> list[access.AccessKey]:
    """Turn --can / --mrz / --qr / --id+--dob into the ordered list of keys to try."""
    if args.id_number is not None:
        if not args.dob:
            raise UsageError("--id needs --dob YYYY-MM-DD")
        try:
            dob = date.fromisoformat(args.dob)
        except ValueError as exc:
            raise UsageError("--dob: not a date; expected YYYY-MM-DD") from exc
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


def load_trust(paths: Sequence[str], *, demo: bool = False) -> TrustStore | None:
    """A trust store from ``--trust`` values; ``demo`` (or the word ``demo``) adds the test CSCA."""
    real: list[str | Path] = [p for p in paths if p != DEMO_TRUST]
    missing = [p for p in real if not Path(p).exists()]
    if missing:
        raise UsageError(f"--trust {missing[0]}: no such file or folder")
    if demo or DEMO_TRUST in paths:
        from simulators.card.pki import demo_trust_paths

        real.extend(demo_trust_paths())
    if not real:
        return None
    try:
        return TrustStore.from_paths(real)
    except PassiveAuthError as exc:
        raise UsageError(f"--trust: {exc}") from exc


def _is_sim(reader: str) -> bool:
    """Whether ``reader`` names the simulator (``sim`` or ``sim:CARD``): demo mode."""
    return reader.partition(":")[0] == "sim"


def read_card(
    reader: str,
    keys: Sequence[access.AccessKey],
    mode: str,
    opts: dict[str, Any],
    *,
    trust: TrustStore | None = None,
    keep_log: bool = False,
) -> tuple[ReadResult, float | None, ReaderSession]:
    """Open the reader, run one read (with CA, AA, PA) and return it with the modeled link time."""
    from drivers.registry import open_transport

    try:
        transport = open_transport(reader, **(opts if _is_sim(reader) else {}))
    except CardRemoved as exc:
        raise NoCard(str(exc)) from exc
    try:
        session = ReaderSession(transport, access=mode, trust=trust, keep_log=keep_log)
        result = session.read(keys)
        modeled = getattr(transport, "modeled_seconds", None)
        return result, (float(modeled) if modeled is not None else None), session
    finally:
        transport.close()


def _auth_json(result: ReadResult) -> dict[str, Any]:
    return {
        "passive_auth": result.passive_auth.to_json() if result.passive_auth else None,
        "active_auth": result.active_auth.to_json() if result.active_auth else None,
        "chip_auth": result.chip_auth.to_json() if result.chip_auth else None,
    }


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
        **_auth_json(result),
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
    lines.extend(format_auth(doc))
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


_VERDICTS = {
    "verified": "✔ Dữ liệu xác thực / Verified: data intact, signed, trusted issuer",
    "issuer_unknown": "? Chưa rõ cơ quan cấp / Issuer unknown: data intact and signed, "
    "issuer not in the trust store",
    "failed": "✘ KHÔNG xác thực được / FAILED: do not rely on this card's data",
}
_CHECKS = {
    "passed": "✔ đạt / passed",
    "failed": "✘ KHÔNG đạt / FAILED",
    "not_supported": "– không hỗ trợ / not supported",
}


def format_auth(doc: dict[str, Any]) -> list[str]:
    """The three authenticity results as text: icon and words, never colour alone."""
    out: list[str] = []
    pa = doc.get("passive_auth")
    if pa:
        out.append(f"Xác thực thụ động / Passive authentication: {_VERDICTS[pa['verdict']]}")
        out.extend(f"    - {r}" for r in pa["reasons"])
    for key, label in (
        ("chip_auth", "Xác thực chip / Chip authentication"),
        ("active_auth", "Chống sao chép / Active authentication"),
    ):
        res = doc.get(key)
        if res:
            reason = f" ({res['reason']})" if res.get("reason") else ""
            out.append(f"{label}: {_CHECKS[res['result']]}{reason}")
    return out


def write_dump(out: Path, result: ReadResult, session: ReaderSession | None = None) -> None:
    """Write the raw files (outer TLV included), the photo and the AA evidence; owner-only.

    With ``session`` (``--evidence``) the APDU log is written too: its
    plaintext views hold personal data, so it is only written on request.
    """
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    aa = result.active_auth
    if aa is not None and aa.challenge and aa.response:
        evidence = {"challenge": aa.challenge.hex(), "response": aa.response.hex()}
        _write_private(out / AA_EVIDENCE, json.dumps(evidence, indent=2).encode())
    if session is not None:
        log = [
            {
                "at": rec.at,
                "command": rec.command.hex(),
                "response": rec.response.hex(),
                "plain_command": rec.plain_command.hex() if rec.plain_command else None,
                "plain_response": rec.plain_response.hex() if rec.plain_response else None,
            }
            for rec in session.channel.log
        ]
        _write_private(out / APDU_LOG, json.dumps(log, indent=1).encode())
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


def resolve_reader(args: argparse.Namespace) -> str:
    """``--reader``, else the config file's reader, else the simulated default card."""
    if args.reader:
        return str(args.reader)
    if args.config is not None:
        from kiosk.config import load_config

        return load_config(args.config).reader.name
    return "sim:default"


def check_out_dir(out: Path) -> None:
    """``--out`` must be new or empty: a dump never mixes two reads (two people's data)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: use a new or empty folder (a dump holds one read only)")


def cmd_read(args: argparse.Namespace) -> int:
    if args.evidence and args.out is None:
        raise UsageError("--evidence needs --out DIR")
    if args.out is not None:
        check_out_dir(args.out)
    keys = keys_from_args(args)
    reader = resolve_reader(args)
    paths = list(args.trust)
    if not paths and args.config is not None:
        from kiosk.config import load_config

        paths = list(load_config(args.config).trust.paths)
    trust = load_trust(paths, demo=_is_sim(reader) and not paths)
    result, modeled, session = read_card(
        reader, keys, args.access, _sim_options(args), trust=trust, keep_log=args.evidence
    )
    if args.out is not None:
        write_dump(args.out, result, session if args.evidence else None)
    _emit(result, modeled, args.json)
    return EXIT_OK


def _load_dump(folder: Path) -> dict[str, bytes]:
    """The raw files of a dump; each must be one TLV object (EF.CardAccess: a SET)."""
    from kiosk.emrtd import tlv
    from kiosk.emrtd.lds.files import by_name

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder written by `cccd-kiosk read --out`")
    files: dict[str, bytes] = {}
    for name in DUMP_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if path.stat().st_size > by_name(name).max_size:
            raise UsageError(f"{path}: larger than any {name} can be")
        raw = path.read_bytes()
        try:
            tlv.decode_prefix(raw, max_length=by_name(name).max_size)
        except EmrtdError as exc:
            raise UsageError(f"{path}: not a {name} file ({exc})") from exc
        files[name] = raw
    if "EF.SOD" not in files:
        raise UsageError(f"{folder}: EF.SOD is missing, nothing can be verified")
    return files


def _parse_or_none(parser: Any, raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return parser(raw)
    except EmrtdError:
        return None


def _aa_from_dump(folder: Path, dg14: Any, dg15: Any) -> Any:
    from kiosk.emrtd.aa import AAResult, verify_active_authentication

    path = folder / AA_EVIDENCE
    if not path.is_file():
        reason = "no AA evidence (AA.json) in the dump" if dg15 else "no DG15 (no AA key)"
        return AAResult("not_supported", None, b"", b"", reason)
    try:
        evidence = json.loads(path.read_text())
        challenge = bytes.fromhex(evidence["challenge"])
        response = bytes.fromhex(evidence["response"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not AA evidence written by `cccd-kiosk read --out`") from exc
    return verify_active_authentication(dg15, dg14, challenge, response)


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-verify a dump: PA against ``--trust``, AA from the recorded challenge/response.

    Exit 0 verified, 3 issuer unknown, 4 failed (PA failed, or AA failed: a clone),
    2 unusable input.
    """
    from kiosk.emrtd.lds import dg1, dg13, dg14, dg15, sod
    from kiosk.emrtd.pa import passive_authentication

    files = _load_dump(args.dir)
    try:
        sod_obj = sod.parse(files["EF.SOD"])
    except EmrtdError as exc:
        raise UsageError(f"{args.dir / 'EF.SOD'}: unparseable ({exc})") from exc
    trust = load_trust(args.trust)
    pa = passive_authentication(sod_obj, files, trust)
    p14 = _parse_or_none(dg14.parse, files.get("DG14"))
    p15 = _parse_or_none(dg15.parse, files.get("DG15"))
    aa = _aa_from_dump(args.dir, p14, p15)
    holder = holder_from(
        _parse_or_none(dg13.parse, files.get("DG13")), _parse_or_none(dg1.parse, files.get("DG1"))
    )
    doc = {"passive_auth": pa.to_json(), "active_auth": aa.to_json(), "holder": holder.to_json()}
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print("\n".join(format_auth(doc)))
    if pa.verdict == "failed" or aa.result == "failed":
        return EXIT_NOT_GENUINE
    return EXIT_OK if pa.verdict == "verified" else EXIT_ISSUER_UNKNOWN


def cmd_demo(args: argparse.Namespace) -> int:
    from drivers.registry import ReaderSpecError
    from simulators.card.profile import UnknownProfile, load_profile

    try:
        profile = load_profile(args.card)
    except UnknownProfile as exc:
        raise ReaderSpecError(f"no simulated card named {args.card!r}") from exc
    keys = [access.key_from_id(profile.id_number)]
    print(f"Thẻ mô phỏng / Simulated card: {args.card} (CAN {keys[0].value})", file=sys.stderr)
    result, modeled, _ = read_card(
        f"sim:{args.card}", keys, "auto", _sim_options(args), trust=load_trust([], demo=True)
    )
    _emit(result, modeled, args.json)
    return EXIT_OK


def run_kiosk(config_path: Path | None) -> int:
    """``cccd-kiosk`` with no command (``make run``): the Qt kiosk on a display, else the same
    check-in flow in the terminal. Without a config: the embedded default (simulated reader
    with the tester panel, gateway simulator on loopback, local cache)."""
    from kiosk.config import Config, load_config
    from kiosk.terminal import has_display, run_terminal

    config = load_config(config_path) if config_path else Config()
    if has_display():
        from ui.app import main as ui_main

        return ui_main(["--windowed", *(["--config", str(config_path)] if config_path else [])])
    return run_terminal(config, first_card=os.environ.get("CARD", "default"))


def _configure_logging() -> None:
    """Log to stderr at ``$CCCD_KIOSK_LOG_LEVEL`` (default ERROR: the CLI already says what
    went wrong in its own words). Log records never carry personal data."""
    level = os.environ.get("CCCD_KIOSK_LOG_LEVEL", "ERROR").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.ERROR),
        format="cccd-kiosk %(levelname)s %(name)s: %(message)s",
    )


def _fail(code: int, message: str) -> int:
    print(f"cccd-kiosk: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    from drivers.registry import ReaderSpecError
    from kiosk.config import ConfigError

    args = build_parser().parse_args(argv)
    _configure_logging()
    if args.command is None:
        try:
            return run_kiosk(args.kiosk_config)
        except (ReaderSpecError, ConfigError) as exc:
            return _fail(EXIT_USAGE, str(exc))
        except KeyboardInterrupt:
            return EXIT_OK
    handlers = {"read": cmd_read, "verify": cmd_verify, "demo": cmd_demo, **checkin_cli.HANDLERS}
    handler = handlers[args.command]
    try:
        return handler(args)
    except (UsageError, ReaderSpecError, ConfigError, TrustStoreError) as exc:
        return _fail(EXIT_USAGE, str(exc))
    except AccessKeyError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except AccessDenied as exc:
        return _fail(EXIT_ACCESS_DENIED, f"access denied — check the CAN / MRZ ({exc})")
    except UnsupportedProtocol as exc:
        return _fail(EXIT_FAILED, str(exc))
    except NoCard:
        return _fail(EXIT_FAILED, "no card on the reader — Đặt thẻ lên đầu đọc / place the card")
    except CardRemoved:
        return _fail(
            EXIT_FAILED,
            "the card was removed during the read — Đặt lại thẻ / place the card again",
        )
    except (TransportError, EmrtdError) as exc:
        return _fail(EXIT_FAILED, f"read failed: {exc}")
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        return _fail(EXIT_FAILED, f"cannot write or read a file: {exc.strerror or exc}")
    except Exception as exc:  # last resort: one line, never a traceback
        return _fail(EXIT_FAILED, f"internal error ({type(exc).__name__}); please report it")


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: other modules raise
    # kiosk.cli.UsageError, which must be the class main() catches.
    from kiosk.cli import main as _main

    sys.exit(_main())
