"""Sample citizens for the software chip: one TOML file per card, loaded into :class:`CardProfile`.

A profile says who the card belongs to (the text that goes into DG13 and the
MRZ of DG1), how the chip behaves (access control mode, extended length,
read size limits, photo size) and which keys it carries (Active
Authentication key type, Chip Authentication curve). The people are made up;
their ID numbers follow the real structure of the 12-digit personal ID
(Circular 07/2016/TT-BCA): a 3-digit province code, a digit for sex and
century of birth, the last two digits of the birth year and 6 digits.

Profiles are validated on load, so a typo in a TOML file fails loudly with
the file and the field named, not later inside the chip.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from kiosk.cccd.mrz import compose_cccd_td1
from kiosk.emrtd.mrz import TD1

#: Access control a chip offers: both (current cards), BAC only (older cards), PACE only.
MODES = ("pace+bac", "bac", "pace")
#: Active Authentication key types.
AA_KEY_TYPES = ("rsa-2048", "ec-p256")
#: Chip Authentication curves the simulator can personalise.
CA_CURVES = ("brainpoolP256r1", "secp256r1")

#: Province/city codes that open a 12-digit ID (Circular 07/2016/TT-BCA, before the 2025 mergers).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

#: The 4th digit of the ID: (first year of the century, sex) for each value.
CENTURY_SEX: dict[str, tuple[int, str]] = {
    "0": (1900, "Nam"),
    "1": (1900, "Nữ"),
    "2": (2000, "Nam"),
    "3": (2000, "Nữ"),
    "4": (2100, "Nam"),
    "5": (2100, "Nữ"),
    "6": (2200, "Nam"),
    "7": (2200, "Nữ"),
    "8": (1800, "Nam"),
    "9": (1800, "Nữ"),
}

#: Ages at which a card must be renewed (Law 26/2023/QH15 art. 21).
RENEWAL_AGES = (14, 25, 40, 60)
#: DG13's text for a card without expiry.
NO_EXPIRY_TEXT = "Không thời hạn"


class SimulatorError(Exception):
    """Base class of errors raised by the card simulator (profiles, PKI, personalisation)."""


class ProfileError(SimulatorError):
    """A card profile is malformed or inconsistent; the message names the file and field."""


class UnknownProfile(ProfileError, KeyError):
    """No sample card of that name. Also a KeyError, so ``cards[name]``-style callers work."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown profile"


@dataclass(frozen=True)
class Person:
    """The holder's data as printed on the card and stored in DG13 (UTF-8 text, NFC)."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str  # "Nam" | "Nữ"
    nationality: str
    ethnicity: str
    religion: str
    place_of_origin: str
    place_of_residence: str
    identifying_marks: str
    date_of_issue: date
    date_of_expiry: date | None  # None: "Không thời hạn"
    father_name: str
    mother_name: str
    spouse_name: str | None = None
    old_id_number: str | None = None
    mrz_surname: str = ""
    mrz_given_names: str = ""

    @property
    def mrz_sex(self) -> str:
        """``M`` or ``F`` as the MRZ writes it."""
        return "M" if self.sex == "Nam" else "F"

    @property
    def can(self) -> str:
        """The card access number: the last 6 digits of the ID number."""
        return self.id_number[-6:]

    @property
    def document_number(self) -> str:
        """The MRZ document number: the last 9 digits of the ID number."""
        return self.id_number[-9:]

    def td1(self) -> TD1:
        """The MRZ printed on the back of this person's card (and stored in DG1)."""
        return compose_cccd_td1(
            self.id_number,
            self.date_of_birth,
            self.sex,
            self.date_of_expiry,
            self.mrz_surname.replace("<", " "),
            self.mrz_given_names.replace("<", " "),
        )


@dataclass(frozen=True)
class ChipOptions:
    """How the simulated chip behaves (see :class:`simulators.card.chip.Chip`).

    ``max_read``: largest Ne a READ BINARY may ask for (None: no limit);
    ``max_read_sw``: what a larger request gets, ``0x6C00`` (6Cxx with the
    right length) or ``0x6700``; ``plain_errors``: answer ordinary errors
    without secure messaging; ``bac_refused_sw``: what MUTUAL AUTHENTICATE
    gets on a PACE-only chip.
    """

    mode: str = "pace+bac"
    extended_length: bool = False
    max_read: int | None = None
    max_read_sw: int = 0x6C00
    plain_errors: bool = False
    bac_refused_sw: int = 0x6982
    photo_bytes: int = 15_000

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ProfileError(f"chip.mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.max_read is not None and not 1 <= self.max_read <= 65536:
            raise ProfileError(f"chip.max_read {self.max_read} outside 1..65536")
        if self.max_read_sw not in (0x6C00, 0x6700):
            raise ProfileError("chip.max_read_sw must be 0x6C00 or 0x6700")
        if self.bac_refused_sw not in (0x6982, 0x6D00):
            raise ProfileError("chip.bac_refused_sw must be 0x6982 or 0x6D00")
        if not 2_000 <= self.photo_bytes <= 60_000:
            raise ProfileError(f"chip.photo_bytes {self.photo_bytes} outside 2000..60000")


@dataclass(frozen=True)
class KeyOptions:
    """Which asymmetric keys the chip is personalised with."""

    aa: str = "rsa-2048"
    ca_curve: str = "brainpoolP256r1"

    def __post_init__(self) -> None:
        if self.aa not in AA_KEY_TYPES:
            raise ProfileError(f"keys.aa {self.aa!r} is not one of {', '.join(AA_KEY_TYPES)}")
        if self.ca_curve not in CA_CURVES:
            raise ProfileError(f"keys.ca_curve {self.ca_curve!r} is not one of {CA_CURVES}")


@dataclass(frozen=True)
class CardProfile:
    """One sample card: who (``person``), how the chip behaves (``chip``), its keys."""

    name: str
    description: str
    person: Person
    chip: ChipOptions = field(default_factory=ChipOptions)
    keys: KeyOptions = field(default_factory=KeyOptions)

    @property
    def id_number(self) -> str:
        return self.person.id_number

    @property
    def can(self) -> str:
        return self.person.can

    @property
    def full_name(self) -> str:
        return self.person.full_name


# ---- helpers ----------------------------------------------------------------------------


def mrz_name(text: str) -> str:
    """Vietnamese text → MRZ letters: diacritics dropped, Đ → D, upper case, spaces → ``<``."""
    text = unicodedata.normalize("NFC", text).replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = re.sub(r"[^A-Z ]", " ", ascii_only.upper())
    return "<".join(letters.split())


def split_mrz_name(full_name: str) -> tuple[str, str]:
    """Vietnamese names are family name first: first word is the MRZ surname, the rest given."""
    words = mrz_name(full_name).split("<")
    return words[0], "<".join(words[1:])


def age_on(born: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _birthday(born: date, age: int) -> date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # 29 February
        return date(born.year + age, 3, 1)


def expected_expiry(born: date, issued: date) -> date | None:
    """The expiry a card issued on ``issued`` gets: the next renewal age, or none after 58.

    A card issued within two years before a renewal age runs to the following
    one (Law 26/2023/QH15 art. 21 and the 2014 law before it).
    """
    age = age_on(born, issued)
    if age >= 58:
        return None
    for renewal in RENEWAL_AGES:
        if age < renewal - 2:
            return _birthday(born, renewal)
    return None


def check_id_number(id_number: str, born: date, sex: str) -> None:
    """Raise :class:`ProfileError` unless the ID has the real 12-digit structure for this person."""
    if not re.fullmatch(r"\d{12}", id_number):
        raise ProfileError(f"id_number {id_number!r} is not 12 digits")
    if id_number[:3] not in PROVINCE_CODES:
        raise ProfileError(f"id_number {id_number}: unknown province code {id_number[:3]}")
    century, id_sex = CENTURY_SEX[id_number[3]]
    if id_sex != sex:
        raise ProfileError(f"id_number {id_number}: digit 4 says {id_sex}, profile says {sex}")
    if born.year != century + int(id_number[4:6]):
        raise ProfileError(f"id_number {id_number}: digits 4-6 do not match birth year {born.year}")


# ---- loading ----------------------------------------------------------------------------


def _profiles_dir() -> Path:
    return Path(str(resources.files("simulators.card") / "profiles"))


def list_profiles() -> list[str]:
    """Names of the sample cards shipped with the simulator, ``default`` first."""
    names = sorted(p.stem for p in _profiles_dir().glob("*.toml"))
    if "default" in names:
        names.remove("default")
        names.insert(0, "default")
    return names


def load_profile(name: str | Path) -> CardProfile:
    """Load and validate a sample card by name (``"default"``) or from a ``.toml`` path.

    Raises :class:`UnknownProfile` (also a ``KeyError``) for an unknown name
    and :class:`ProfileError` for a malformed file.
    """
    if isinstance(name, Path) or str(name).endswith(".toml"):
        path = Path(name)
        profile_name = path.stem
    else:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise UnknownProfile(f"no sample card {name!r}")
        path = _profiles_dir() / f"{name}.toml"
        profile_name = name
        if not path.is_file():
            raise UnknownProfile(f"no sample card {name!r}; known: {', '.join(list_profiles())}")
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise UnknownProfile(f"cannot read card profile {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc
    try:
        return profile_from_dict(profile_name, doc)
    except ProfileError as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc


def _text(table: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ProfileError(f"person.{key} is missing")
        return None
    if not isinstance(value, str):
        raise ProfileError(f"person.{key} must be text")
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise ProfileError(f"person.{key} is empty")
    return value or None


def _date(table: dict[str, Any], key: str) -> date:
    value = table.get(key)
    if isinstance(value, date):
        return value
    raise ProfileError(f"person.{key} must be a TOML date (YYYY-MM-DD)")


def _int_or_hex(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise ProfileError(f"{key} must be an integer")


def profile_from_dict(name: str, doc: dict[str, Any]) -> CardProfile:
    """Build and validate a :class:`CardProfile` from a parsed TOML document."""
    p = doc.get("person")
    if not isinstance(p, dict):
        raise ProfileError("[person] table is missing")
    born = _date(p, "date_of_birth")
    issued = _date(p, "date_of_issue")
    raw_expiry = p.get("date_of_expiry")
    expiry: date | None
    if isinstance(raw_expiry, date):
        expiry = raw_expiry
    elif raw_expiry in ("none", NO_EXPIRY_TEXT):
        expiry = None
    else:
        raise ProfileError('person.date_of_expiry must be a date or "none"')
    sex = _text(p, "sex")
    if sex not in ("Nam", "Nữ"):
        raise ProfileError(f"person.sex {sex!r} must be Nam or Nữ")
    id_number = str(_text(p, "id_number"))
    check_id_number(id_number, born, sex)
    if issued < born or issued > date(2100, 1, 1):
        raise ProfileError("person.date_of_issue is before birth")
    if expiry is not None and expiry <= issued:
        raise ProfileError("person.date_of_expiry is not after date_of_issue")
    if expiry != expected_expiry(born, issued):
        raise ProfileError(
            f"person.date_of_expiry {expiry} does not follow the renewal ages "
            f"(expected {expected_expiry(born, issued)})"
        )
    old_id = _text(p, "old_id_number", required=False)
    if old_id is not None and not re.fullmatch(r"\d{9}", old_id):
        raise ProfileError(f"person.old_id_number {old_id!r} is not 9 digits")
    full_name = str(_text(p, "full_name"))
    surname, given = split_mrz_name(full_name)
    surname = str(p.get("mrz_surname", surname))
    given = str(p.get("mrz_given_names", given))
    for label, value in (("mrz_surname", surname), ("mrz_given_names", given)):
        if not re.fullmatch(r"[A-Z<]+", value):
            raise ProfileError(f"person.{label} {value!r} must be MRZ letters A-Z and <")
    person = Person(
        id_number=id_number,
        full_name=full_name,
        date_of_birth=born,
        sex=sex,
        nationality=str(_text(p, "nationality")),
        ethnicity=str(_text(p, "ethnicity")),
        religion=str(_text(p, "religion")),
        place_of_origin=str(_text(p, "place_of_origin")),
        place_of_residence=str(_text(p, "place_of_residence")),
        identifying_marks=str(_text(p, "identifying_marks")),
        date_of_issue=issued,
        date_of_expiry=expiry,
        father_name=str(_text(p, "father_name")),
        mother_name=str(_text(p, "mother_name")),
        spouse_name=_text(p, "spouse_name", required=False),
        old_id_number=old_id,
        mrz_surname=surname,
        mrz_given_names=given,
    )
    c = doc.get("chip", {})
    k = doc.get("keys", {})
    if not isinstance(c, dict) or not isinstance(k, dict):
        raise ProfileError("[chip] and [keys] must be tables")
    known_chip = {"mode", "extended_length", "max_read", "max_read_sw", "plain_errors",
                  "bac_refused_sw", "photo_bytes"}  # fmt: skip
    unknown = set(c) - known_chip
    if unknown:
        raise ProfileError(f"unknown [chip] keys: {', '.join(sorted(unknown))}")
    max_read = c.get("max_read")
    chip = ChipOptions(
        mode=str(c.get("mode", "pace+bac")),
        extended_length=bool(c.get("extended_length", False)),
        max_read=None if max_read in (None, 0) else _int_or_hex(max_read, "chip.max_read"),
        max_read_sw=_int_or_hex(c.get("max_read_sw", 0x6C00), "chip.max_read_sw"),
        plain_errors=bool(c.get("plain_errors", False)),
        bac_refused_sw=_int_or_hex(c.get("bac_refused_sw", 0x6982), "chip.bac_refused_sw"),
        photo_bytes=_int_or_hex(c.get("photo_bytes", 15_000), "chip.photo_bytes"),
    )
    keys = KeyOptions(
        aa=str(k.get("aa", "rsa-2048")), ca_curve=str(k.get("ca_curve", CA_CURVES[0]))
    )
    return CardProfile(
        name=name,
        description=str(doc.get("description", "")),
        person=person,
        chip=chip,
        keys=keys,
    )
