"""What ``read``, ``verify`` and ``checkin`` produce, as typed reports with one ``to_json`` and
one ``to_text`` each — the same words on every front-end that prints them.

Every report holds personal data (a holder, a chip read): it goes to stdout or a screen the
user asked for, never to a log (the reports' ``repr`` says so and shows none of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kiosk.app.errors import NoHolderData
from kiosk.app.messages import (
    EXIT_ISSUER_UNKNOWN,
    EXIT_NOT_GENUINE,
    EXIT_OK,
)
from kiosk.cccd.holder import Holder, holder_from
from kiosk.checkin import CheckInOutcome
from kiosk.config import Department
from kiosk.emrtd.aa import AAResult
from kiosk.emrtd.pa import PassiveAuthResult
from kiosk.emrtd.session import ReadResult

#: The holder's fields as ``read`` prints them, Vietnamese label first.
HOLDER_LABELS = (
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
    ("card_serial", "Số seri thẻ / Card serial"),
)

VERDICT_TEXT = {
    "verified": "✔ Dữ liệu xác thực / Verified: data intact, signed, trusted issuer",
    "issuer_unknown": "? Chưa rõ cơ quan cấp / Issuer unknown: data intact and signed, "
    "issuer not in the trust store",
    "failed": "✘ KHÔNG xác thực được / FAILED: do not rely on this card's data",
}
#: How the document signer's certificate was found, when not by its exact issuer and serial.
SIGNER_MATCH_TEXT = {
    "issuer_and_serial_any_order": "Document signer found by serial number and issuer "
    "(its name's parts in another order)",
    "subject_key_identifier": "Document signer found by its key identifier",
    "only_certificate": "The SOD does not name its signer exactly; its only certificate "
    "was checked",
}
CHECK_TEXT = {
    "passed": "✔ đạt / passed",
    "failed": "✘ KHÔNG đạt / FAILED",
    "not_supported": "– không hỗ trợ / not supported",
}
STATUS_TEXT = {
    "eligible": "✔ Thẻ BHYT hợp lệ / BHYT card valid",
    "not_eligible": "✘ Không đủ điều kiện / Not eligible",
    "unknown": "? Chưa rõ — hỏi nhân viên / Unknown — ask staff",
}


#: The CCCD's CSCA, as named in issuer-unknown reports (README "What is known about trust").
CCCD_CSCA = (
    "CSCA Vietnam (serialNumber=001, O=Vietnam Government Information Security Commission, C=VN)"
)
INSTALL_HINT = "cccd-kiosk trust add FILE --sha256 FINGERPRINT"


def csca_lines(pa: dict[str, Any]) -> list[str]:
    """Which CSCA vouched for the card (name, country, the file it is trusted from), or —
    issuer unknown — which CSCA is missing and the command that installs it."""
    info = pa.get("csca_info")
    if info:
        name = info.get("common_name") or info["subject"]
        cn = info.get("common_name") and info.get("country")
        country = f" ({info['country']})" if cn else ""  # a bare subject already says C=
        lines = [f"Được bảo chứng bởi / Vouched for by (CSCA): {name}{country}"]
        src = info.get("source")
        if src:
            label = {
                "certificate_file": "tệp chứng thư / certificate file",
                "master_list": "danh sách CSCA / master list",
            }.get(src["kind"], "thêm trực tiếp / added directly")
            lines.append(f"tin cậy từ / trusted from: {label} {src['name']}".rstrip())
        return lines
    if pa.get("csca"):
        return [f"Được bảo chứng bởi / Vouched for by (CSCA): {pa['csca']}"]
    if pa.get("chain") != "unknown_issuer":
        return []
    issuer = (pa.get("signer") or {}).get("issuer", "")
    if issuer.endswith("C=VN") or ", C=VN," in issuer:
        missing = f"CSCA của CCCD chưa được cài / The CCCD's CSCA is not installed: {CCCD_CSCA}"
    else:
        missing = (
            "CSCA của nơi cấp chưa được cài / The issuer's CSCA is not installed: "
            f"{issuer or 'unknown'}"
        )
    return [missing, f"cài bằng / install it with: {INSTALL_HINT}"]


def auth_lines(doc: dict[str, Any]) -> list[str]:
    """The three authenticity results of a JSON document as text: icon and words, never
    colour alone."""
    out: list[str] = []
    pa = doc.get("passive_auth")
    if pa:
        out.append(f"Xác thực thụ động / Passive authentication: {VERDICT_TEXT[pa['verdict']]}")
        out.extend(f"    - {r}" for r in pa["reasons"])
        out.extend(f"    · {n}" for n in pa.get("notes", ()))
        out.extend(("    · " if i == 0 else "      ") + x for i, x in enumerate(csca_lines(pa)))
        if pa.get("signer_match") not in (None, "issuer_and_serial"):
            out.append(f"    · {SIGNER_MATCH_TEXT.get(pa['signer_match'], pa['signer_match'])}")
    for key, label in (
        ("chip_auth", "Xác thực chip / Chip authentication"),
        ("active_auth", "Chống sao chép / Active authentication"),
    ):
        res = doc.get(key)
        if res:
            reason = f" ({res['reason']})" if res.get("reason") else ""
            out.append(f"{label}: {CHECK_TEXT[res['result']]}{reason}")
    return out


def holder_lines(holder: Holder) -> list[str]:
    """The holder's fields, one per line, aligned; unknown values as "—" (an expiry too:
    "no expiry" only when the card says so)."""
    data = holder.to_json()
    width = max(len(label) for _, label in HOLDER_LABELS)
    lines = []
    for key, label in HOLDER_LABELS:
        value = data[key]
        if key == "date_of_expiry" and value is None and holder.no_expiry:
            value = "Không thời hạn / No expiry"
        lines.append(f"{label:<{width}}  {value if value is not None else '—'}")
    return lines


@dataclass(frozen=True, repr=False)
class ReadReport:
    """One chip read (``cccd-kiosk read``): the result and the simulated link's modeled time."""

    result: ReadResult
    modeled_seconds: float | None = None

    def __repr__(self) -> str:
        return "ReadReport(<personal data>)"

    @property
    def holder(self) -> Holder:
        return holder_from(self.result.dg13, self.result.dg1)

    def require_holder_data(self) -> None:
        """Raise :class:`NoHolderData` when neither DG13 nor DG1 could be used.

        A chip whose files all fail to parse must not come out as a holder with every
        field empty and exit 0; the error names the files (never their contents).
        """
        result = self.result
        if result.dg13 is not None or result.dg1 is not None:
            return
        states = []
        for name in ("DG13", "DG1"):
            if name in result.parse_errors:
                states.append(f"{name} could not be parsed")
            elif name in result.protected:
                states.append(f"{name} is protected")
            else:
                states.append(f"{name} is not on the card")
        raise NoHolderData(", ".join(states))

    def to_json(self) -> dict[str, Any]:
        """``read --json``: holder, document, photo, the three checks and the read's figures."""
        result = self.result
        mrz = result.dg1.mrz if result.dg1 is not None else None
        photo: dict[str, Any] | None = None
        if result.dg2 is not None and result.dg2.faces:
            face = result.dg2.faces[0]
            photo = {"format": face.image_format, "bytes": len(face.image)}
        modeled = self.modeled_seconds
        return {
            "holder": self.holder.to_json(),
            "document": {
                "document_number": mrz.document_number if mrz else None,
                "mrz_lines": list(mrz.lines) if mrz else None,
            },
            "photo": photo,
            "passive_auth": result.passive_auth.to_json() if result.passive_auth else None,
            "active_auth": result.active_auth.to_json() if result.active_auth else None,
            "chip_auth": result.chip_auth.to_json() if result.chip_auth else None,
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

    def to_text(self) -> str:
        """The card's contents, the checks, the photo and the read's figures, as text."""
        doc = self.to_json()
        read = doc["read"]
        photo = doc["photo"]
        lines = holder_lines(self.holder)
        lines.append("")
        lines.extend(auth_lines(doc))
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


@dataclass(frozen=True, repr=False)
class VerifyReport:
    """A dump re-verified offline (``cccd-kiosk verify``)."""

    passive_auth: PassiveAuthResult
    active_auth: AAResult
    holder: Holder

    def __repr__(self) -> str:
        return f"VerifyReport(verdict={self.passive_auth.verdict!r}, <personal data>)"

    @property
    def exit_code(self) -> int:
        """0 verified, 3 issuer unknown, 4 failed (PA failed, or AA failed: a clone)."""
        if self.passive_auth.verdict == "failed" or self.active_auth.result == "failed":
            return EXIT_NOT_GENUINE
        return EXIT_OK if self.passive_auth.verdict == "verified" else EXIT_ISSUER_UNKNOWN

    def to_json(self) -> dict[str, Any]:
        return {
            "passive_auth": self.passive_auth.to_json(),
            "active_auth": self.active_auth.to_json(),
            "holder": self.holder.to_json(),
        }

    def to_text(self) -> str:
        return "\n".join(auth_lines(self.to_json()))


def format_age(delta: timedelta) -> str:
    """A cached answer's age: "42 min", "5 h", "3 d"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


_ELIGIBILITY_KEYS = (
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


@dataclass(frozen=True, repr=False)
class CheckInReport:
    """One check-in (``cccd-kiosk checkin``, the terminal kiosk): the outcome and, for a chip
    read on the simulated reader, the link's modeled time."""

    outcome: CheckInOutcome
    modeled_seconds: float | None = None
    #: The configured department the number counts in (None: the clinic's one queue).
    department: Department | None = None

    def __repr__(self) -> str:
        return f"CheckInReport({self.outcome!r})"

    def to_json(self) -> dict[str, Any]:
        """``read --json``'s document (chip) or the typed/QR holder, plus the check-in."""
        out = self.outcome
        doc: dict[str, Any]
        if out.read is not None:
            doc = ReadReport(out.read, self.modeled_seconds).to_json()
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
        doc["eligibility"] = {k: el[k] for k in _ELIGIBILITY_KEYS}
        doc["eligibility"]["age_seconds"] = (
            int(out.cache_age.total_seconds()) if out.cache_age is not None else None
        )
        doc["checkin_id"] = out.checkin_id
        doc["queue_number"] = out.queue_number
        doc["department"] = out.department or None
        doc["department_name"] = (
            {"vi": self.department.name_vi, "en": self.department.name("en")}
            if self.department
            else None
        )
        doc["room"] = out.room or None
        doc["repeat"] = out.repeat
        doc["method"] = out.method
        doc["chip_verified"] = out.chip_verified
        return doc

    def to_text(self) -> str:
        """The holder (chip reads as ``read`` prints them), then the insurance answer and the
        queue number."""
        out = self.outcome
        lines: list[str] = []
        if out.read is not None and out.holder is not None:
            lines.append(ReadReport(out.read, self.modeled_seconds).to_text())
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
        lines.append(f"Bảo hiểm y tế / Health insurance: {STATUS_TEXT[el.status]}")
        if el.code is not None:
            lines.append(f"    mã / code {el.code}: {el.message or ''}")
        lines.append(f"    {el.advice_vi}")
        lines.append(f"    {el.advice_en}")
        if el.valid_from or el.valid_to:
            lines.append(f"    hiệu lực / valid {el.valid_from or '…'} → {el.valid_to or '…'}")
        if el.registered_clinic:
            lines.append(f"    nơi ĐKKCB / registered clinic {el.registered_clinic}")
        if el.source == "cache":
            age = f", {format_age(out.cache_age)} old" if out.cache_age is not None else ""
            stale = " — CŨ / STALE" if el.stale else ""
            lines.append(
                f"    kết quả lưu / saved answer from {el.as_of:%Y-%m-%d %H:%M}Z{age}{stale}"
            )
        lines.append("")
        if out.repeat:
            lines.append(
                f"Bạn đã có số {out.queue_number} hôm nay / You already have number "
                f"{out.queue_number} today"
            )
        lines.append(f"Số thứ tự / Queue number: {out.queue_number}   ({out.checkin_id})")
        if self.department is not None or out.room:
            where = [self.department.name_vi] if self.department else [out.department]
            if out.room:
                where.append(f"Phòng / Room {out.room}")
            lines.append("    " + " — ".join(w for w in where if w))
        return "\n".join(lines)
