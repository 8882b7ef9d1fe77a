"""A read's raw files on disk (``read --out``) and their offline re-verification (``verify``).

A dump is personal data: its folder is created owner-only (0700, files 0600) and must be new
or empty, so one dump never mixes two people's reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kiosk.app.errors import UsageError
from kiosk.app.reports import VerifyReport
from kiosk.cccd.holder import holder_from
from kiosk.emrtd.aa import AAResult, verify_active_authentication
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.session import ReaderSession, ReadResult
from kiosk.emrtd.trust import TrustStore

#: Dump file names, in the order they are written.
DUMP_FILES = ("EF.CardAccess", "EF.COM", "EF.SOD", "DG1", "DG2", "DG13", "DG14", "DG15")
#: Active Authentication challenge and response, so a dump can be re-verified offline.
AA_EVIDENCE = "AA.json"
#: The APDU log (only with --evidence).
APDU_LOG = "apdu-log.json"


def check_out_dir(out: Path) -> None:
    """``--out`` must be new or empty: a dump never mixes two reads (two people's data).

    A symlink is refused (it could point where someone else wants personal data written),
    and so is an existing folder another user owns or others may write to (they could plant
    a symlink in it between this check and the write).
    """
    if out.is_symlink():
        raise UsageError(f"--out {out}: is a symbolic link; give a new folder")
    if not out.exists():
        return
    if not out.is_dir() or any(out.iterdir()):
        raise UsageError(f"--out {out}: use a new or empty folder (a dump holds one read only)")
    st = out.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise UsageError(
            f"--out {out}: belongs to another user or others may write to it; give a new folder"
        )


def write_dump(out: Path, result: ReadResult, session: ReaderSession | None = None) -> None:
    """Write the raw files (outer TLV included), the photo and the AA evidence; owner-only.

    With ``session`` (``--evidence``) the APDU log is written too: its plaintext views hold
    personal data, so it is only written on request.
    """
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        os.mkdir(out, 0o700)  # fresh (fails if it appeared meanwhile); an empty one was checked
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
    """Create ``path`` owner-only; never follow or reuse what is there (a planted symlink or
    file in the dump folder is refused, not written through)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError as exc:
        raise UsageError(
            f"--out: {path.name} appeared in the dump folder while writing; refused"
        ) from exc
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def load_dump(folder: Path) -> dict[str, bytes]:
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
            # EF.SOD's CMS may be BER (indefinite lengths) on real chips; the rest is DER.
            tlv.decode_prefix(raw, max_length=by_name(name).max_size, ber=name == "EF.SOD")
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


def _aa_from_dump(folder: Path, dg14: Any, dg15: Any) -> AAResult:
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


def verify_dump(folder: Path, trust: TrustStore | None) -> VerifyReport:
    """Re-verify a dump: PA against ``trust``, AA from the recorded challenge and response."""
    from kiosk.emrtd.lds import dg1, dg13, dg14, dg15, sod
    from kiosk.emrtd.pa import passive_authentication

    files = load_dump(folder)
    try:
        sod_obj = sod.parse(files["EF.SOD"])
    except EmrtdError as exc:
        raise UsageError(f"{folder / 'EF.SOD'}: unparseable ({exc})") from exc
    pa = passive_authentication(sod_obj, files, trust)
    p14 = _parse_or_none(dg14.parse, files.get("DG14"))
    p15 = _parse_or_none(dg15.parse, files.get("DG15"))
    aa = _aa_from_dump(folder, p14, p15)
    holder = holder_from(
        _parse_or_none(dg13.parse, files.get("DG13")), _parse_or_none(dg1.parse, files.get("DG1"))
    )
    return VerifyReport(pa, aa, holder)
