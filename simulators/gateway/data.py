"""The simulated gateway's insured people and the card-check rules (``maKetQua``).

The people live in ``data/insured.toml`` (``--data FILE`` swaps in another file with the same
keys), so a test or a demo can see, next to the sample cards, what the gateway will say.
They are made up; the first seven match the sample cards in ``simulators/card/profiles``.

=========== ============ =============== ========= =========================================
card        CCCD         BHYT maThe      maKetQua  what it shows
=========== ============ =============== ========= =========================================
default     001088034517 DN4010188034517 000       valid, 01/01/2026–31/12/2026, maDKBD 01001
anh-tuyet   046196008821 GD4464696008821 000       valid
bac-only    092079005136 HC4929279005136 010       expired (31/12/2025)
big-photo   031085009214 DN4313185009214 004       still valid, new card issued (maTheMoi)
elder       048155007283 TQ4484855007283 001       managed by BHXH of the Ministry of Defence
fussy       038301006745 SV4383801006745 110       revoked
teen        079212004562 HS4797912004562 000       valid
pace-only   040192003978 —               050       not in the data: no card information
(typed)     001092012346 DN4010192012346 000/060   registered "Dương Văn Tú"; the card's name
                                                   "Giang Văn Tú" gives 060
(typed)     036190004411 GD4363690004411 000/061   registered "Lý Thị Mai", born 1990 (year
                                                   only); "Lí Thị Mai" gives 061
(typed)     025083001122 CA5252583001122 002       managed by BHXH of the Ministry of Public
                                                   Security
(typed)     034191002288 DN4343491002288 003       old card expired, new card issued
(typed)     027087003355 DN4272787003355 120       card reported reduced
(typed)     001224000077 —               130       child without a card
=========== ============ =============== ========= =========================================

Any person also gives 060 / 061 (name), 070 (birth date) and, for a 15-character ``maThe``
whose last ten characters are their ``maSoBHXH``, 051 (wrong object code, chars 1–2),
053 (wrong benefit level, char 3) or 052 (wrong province, chars 4–5). Staff checks
(``KQNhanLichSuKCB2024`` only): missing or malformed ``hoTenCb`` / ``cccdCb`` → 205, a staff
CCCD not in ``[[staff]]`` → 054, the wrong name for it → 055. Registered staff:
``001185000123`` "Nguyễn Thị Thu Hằng" and ``001080000456`` "Phạm Văn Long".

Order of the checks: parameter format (205), staff (054, 055), lookup (050–053), name
(060 / 061), birth date (070), then the person's own ``maKetQua``. Names compare after
Unicode NFC, case folding and collapsing spaces (diacritics matter: "Minh" is not "Mính");
061 when the first letters agree. A birth year (``yyyy``) on either side compares the year only.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).with_name("data") / "insured.toml"

#: ghiChu per maKetQua (the gateway's own wording, in Vietnamese).
MESSAGES: dict[str, str] = {
    "000": "Thông tin thẻ chính xác.",
    "001": "Thẻ do BHXH Bộ Quốc phòng quản lý, đề nghị kiểm tra thẻ và giấy tờ tùy thân.",
    "002": "Thẻ do BHXH Bộ Công an quản lý, đề nghị kiểm tra thẻ và giấy tờ tùy thân.",
    "003": "Thẻ cũ hết giá trị sử dụng, đã được cấp thẻ mới.",
    "004": "Thẻ cũ còn giá trị sử dụng, đã được cấp thẻ mới.",
    "010": "Thẻ hết giá trị sử dụng.",
    "050": "Không thấy thông tin thẻ BHYT.",
    "051": "Mã thẻ không đúng.",
    "052": "Mã tỉnh cấp thẻ (kí tự thứ 4, 5 của mã thẻ) không đúng.",
    "053": "Mã quyền lợi thẻ (kí tự thứ 3 của mã thẻ) không đúng.",
    "054": "CCCD của cán bộ không có trong danh sách của cơ sở KCB.",
    "055": "Họ tên cán bộ không khớp với CCCD.",
    "060": "Thẻ sai họ tên.",
    "061": "Thẻ sai họ tên (đúng kí tự đầu).",
    "070": "Thẻ sai ngày sinh.",
    "110": "Thẻ đã thu hồi.",
    "120": "Thẻ đã báo giảm.",
    "130": "Trẻ em không xuất trình thẻ (chưa được cấp thẻ).",
    "205": "Lỗi sai định dạng tham số.",
    "401": "Lỗi xác thực tài khoản.",
    "500": "Lỗi máy chủ.",
}

#: Codes where the person was found (the reply carries their card data).
FOUND_CODES = frozenset({"000", "001", "002", "003", "004", "010", "110", "120", "130"})
#: Codes where the card can be used today (001/002: after checking ID papers).
INFORCE_CODES = frozenset({"000", "001", "002", "004"})

#: The response fields of KQNhanLichSuKCB2019 / 2024, in the gateway's order.
RESPONSE_FIELDS = (
    "maKetQua",
    "ghiChu",
    "maThe",
    "hoTen",
    "ngaySinh",
    "gioiTinh",
    "diaChi",
    "maDKBD",
    "cqBHXH",
    "gtTheTu",
    "gtTheDen",
    "maKV",
    "ngayDu5Nam",
    "maSoBHXH",
    "maTheMoi",
    "tenDKBDMoi",
    "dsLichSuKCB2018",
)

_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$|^(\d{4})$")
_BHYT = re.compile(r"^[A-Z]{2}\d{13}$")


class DataError(ValueError):
    """The data file is missing, not TOML, or an entry lacks a key."""


@dataclass(frozen=True)
class Insured:
    """One insured person: the gateway fields plus the simulator-only ``card`` / ``card_name``."""

    fields: dict[str, str]
    card: str = ""
    card_name: str = ""
    clinic_name: str = ""

    @property
    def cccd(self) -> str:
        return self.fields["cccd"]

    @property
    def code(self) -> str:
        return self.fields["maKetQua"]


@dataclass(frozen=True)
class Staff:
    """A clinic staff member registered to run card checks (``cccdCb``, ``hoTenCb``)."""

    cccd: str
    name: str


@dataclass
class CheckResult:
    """The answer to one card check: the code and, when the person was found, who."""

    code: str
    person: Insured | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_gateway(self) -> dict[str, Any]:
        """The KQNhanLichSuKCB reply: every field present, null where it does not apply."""
        out: dict[str, Any] = dict.fromkeys(RESPONSE_FIELDS)
        out["maKetQua"] = self.code
        out["ghiChu"] = MESSAGES.get(self.code, "")
        if self.person is not None and self.code in FOUND_CODES:
            for key in RESPONSE_FIELDS[2:-1]:
                out[key] = self.person.fields.get(key, "")
        return out


_PERSON_KEYS = ("maKetQua", "cccd", "maThe", "maSoBHXH", "hoTen", "ngaySinh", "gioiTinh")


_YEAR = re.compile(r"\{Y([+-]\d+)?\}")


def _this_year(value: str, today: dt.date | None = None) -> str:
    """``{Y}`` → the current year, ``{Y-1}`` → last year…: validity that does not age."""
    year = (today or dt.date.today()).year
    return _YEAR.sub(lambda m: str(year + int(m.group(1) or 0)), value)


class InsuredData:
    """The people and staff of one data file, with the lookup and check rules."""

    def __init__(self, people: Iterable[Insured], staff: Iterable[Staff]) -> None:
        self.people = list(people)
        self.staff = {s.cccd: s for s in staff}
        self._by_cccd = {p.cccd: p for p in self.people}
        self._by_bhxh = {p.fields["maSoBHXH"]: p for p in self.people if p.fields["maSoBHXH"]}

    @classmethod
    def load(cls, path: Path | None = None) -> InsuredData:
        """Read a data file (default: the bundled ``data/insured.toml``)."""
        path = path or DEFAULT_DATA
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DataError(f"cannot read gateway data {path}: {exc}") from exc
        people = []
        for i, entry in enumerate(raw.get("person", [])):
            missing = [k for k in _PERSON_KEYS if k not in entry]
            if missing:
                raise DataError(f"{path}: person {i + 1} lacks {', '.join(missing)}")
            card = str(entry.pop("card", ""))
            card_name = str(entry.pop("card_name", ""))
            clinic = str(entry.pop("tenDKBD", ""))
            fields = {k: _this_year(str(v)) for k, v in entry.items()}
            people.append(Insured(fields, card, card_name, clinic))
        staff = [Staff(str(s["cccdCb"]), str(s["hoTenCb"])) for s in raw.get("staff", [])]
        return cls(people, staff)

    def find(self, ma_the: str) -> tuple[str, Insured | None]:
        """Look up by CCCD (12 digits), maSoBHXH (10 digits) or BHYT number (15 chars).

        Returns ("", person) when found, else the lookup's error code (050–053).
        """
        if len(ma_the) == 12 and ma_the.isdigit():
            person = self._by_cccd.get(ma_the)
            return ("", person) if person else ("050", None)
        if len(ma_the) == 10 and ma_the.isdigit():
            person = self._by_bhxh.get(ma_the)
            return ("", person) if person else ("050", None)
        if not _BHYT.match(ma_the):
            return "051", None
        person = self._by_bhxh.get(ma_the[5:])
        if person is None:
            return "050", None
        card = person.fields["maThe"]
        if ma_the[:2] != card[:2]:
            return "051", None
        if ma_the[2] != card[2]:
            return "053", None
        if ma_the[3:5] != card[3:5]:
            return "052", None
        return "", person

    def check(
        self,
        ma_the: Any,
        ho_ten: Any,
        ngay_sinh: Any,
        staff: tuple[Any, Any] | None = None,
    ) -> CheckResult:
        """Run one card check; ``staff`` is (hoTenCb, cccdCb) for the 2024 version."""
        if not all(isinstance(v, str) and v.strip() for v in (ma_the, ho_ten, ngay_sinh)):
            return CheckResult("205")
        if not _DATE.match(ngay_sinh.strip()):
            return CheckResult("205")
        if staff is not None:
            name_cb, cccd_cb = staff
            if not (isinstance(name_cb, str) and name_cb.strip() and isinstance(cccd_cb, str)):
                return CheckResult("205")
            if not (len(cccd_cb) == 12 and cccd_cb.isdigit()):
                return CheckResult("205")
            registered = self.staff.get(cccd_cb)
            if registered is None:
                return CheckResult("054")
            if normalize_name(registered.name) != normalize_name(name_cb):
                return CheckResult("055")
        code, person = self.find(ma_the.strip().upper())
        if person is None:
            return CheckResult(code)
        name_code = compare_names(person.fields["hoTen"], ho_ten)
        if name_code:
            return CheckResult(name_code)
        if not same_birth(person.fields["ngaySinh"], ngay_sinh.strip()):
            return CheckResult("070")
        return CheckResult(person.code, person)


def normalize_name(name: str) -> str:
    """NFC, case-folded, single spaces: how the simulator compares names."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def compare_names(registered: str, given: str) -> str:
    """'' when the names agree, '061' when only the first letter does, else '060'."""
    a, b = normalize_name(registered), normalize_name(given)
    if a == b:
        return ""
    return "061" if a[:1] and a[:1] == b[:1] else "060"


def same_birth(registered: str, given: str) -> bool:
    """Whether two gateway birth dates agree (year only when either side is ``yyyy``)."""
    if len(registered) == 4 or len(given) == 4:
        return registered[-4:] == given[-4:]
    return registered == given
