"""What the outbox sends the hospital system (HIS): a check-in in the HIS's own vocabulary.

No cross-vendor kiosk API exists (../shared/reference/CCCD.md), so the kiosk speaks one of
the two shared vocabularies, chosen in configuration:

* :func:`xml130_payload` — JSON with the fields of the Ministry of Health's XML 130
  (QĐ 4750/QĐ 130) check-in table: ``ma_lk``, ``stt``, ``ho_ten``, ``so_cccd``,
  ``ngay_sinh``, ``gioi_tinh``, ``ma_the_bhyt``, ``ma_dkbd``, ``gt_the_tu``,
  ``gt_the_den``, ``ma_doituong_kcb``, plus ``ngay_vao`` (check-in time) and a ``kiosk``
  object with what only the kiosk knows (method, chip verification, eligibility status).
* :func:`fhir_bundle` — a FHIR R4 transaction Bundle: Patient (CCCD and BHYT identifiers,
  name, gender, birth date) and Encounter (status ``arrived``, identifier = checkin_id).

Both are pure functions of a :class:`~offline_cache.journal.CheckInRecord`: the outbox
builds them at send time, so a record completed later (eligibility) goes out complete, and a
retry sends the same document (stable UUIDs), which the HIS can dedupe.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime
from typing import Any

from offline_cache.journal import VIETNAM_TZ, CheckInRecord

# The Vietnamese core IG (hl7vn vn-core-ig, R4, draft) publishes a NamingSystem for the BHYT
# number (sid/insurance_number). The CCCD system below follows the same pattern but is an
# ASSUMPTION, as is the kiosk's own check-in id system: confirm both with the HIS vendor.
VN_CORE = "http://fhir.ehealth.gov.vn/core"
SYSTEM_BHYT = f"{VN_CORE}/sid/insurance_number"
SYSTEM_CCCD = f"{VN_CORE}/sid/cccd"  # assumption
SYSTEM_CHECKIN = "urn:cccd-kiosk:checkin-id"  # assumption: the kiosk's own id space
#: The clinic's department codes ([[departments]] code, XML 130 MA_KHOA): the kiosk's own
#: code space, since each hospital numbers its departments itself.
SYSTEM_DEPARTMENT = "urn:cccd-kiosk:department"
PROFILE_PATIENT = f"{VN_CORE}/StructureDefinition/vn-core-patient"
PROFILE_ENCOUNTER = f"{VN_CORE}/StructureDefinition/vn-core-encounter"  # assumption
_UUID_NS = uuid.UUID("5b0f6d0e-6c2a-4b7e-9a43-1f1b2c3d4e5f")

_SEX_CODES = {"nam": 1, "nữ": 2, "nu": 2, "m": 1, "male": 1, "f": 2, "female": 2}
_FHIR_GENDER = {1: "male", 2: "female", 3: "unknown"}


def sex_code(sex: object) -> int:
    """XML 130 ``gioi_tinh``: 1 Nam, 2 Nữ, 3 not known."""
    if not isinstance(sex, str):
        return 3
    return _SEX_CODES.get(unicodedata.normalize("NFC", sex).strip().casefold(), 3)


def _ymd_parts(value: object) -> tuple[str, str, str] | None:
    """(yyyy, mm, dd) of an ISO date, partial ISO (``1955``, ``1955-03``) or ``dd/mm/yyyy``.

    Unknown month or day become ``00`` (cards of people born with only a known year).
    """
    if isinstance(value, date):
        return f"{value.year:04d}", f"{value.month:02d}", f"{value.day:02d}"
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if m:
        return m.group(1), m.group(2) or "00", m.group(3) or "00"
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        return m.group(3), f"{int(m.group(2)):02d}", f"{int(m.group(1)):02d}"
    return None


def birth_130(value: object) -> str | None:
    """XML 130 ``ngay_sinh`` (yyyymmddHHMM); the chip has no birth time, so ``0000``."""
    parts = _ymd_parts(value)
    return "".join(parts) + "0000" if parts else None


def date_130(value: object) -> str | None:
    """XML 130 yyyymmdd (``gt_the_tu`` / ``gt_the_den``)."""
    parts = _ymd_parts(value)
    return "".join(parts) if parts else None


def _fhir_date(value: object) -> str | None:
    """FHIR ``date``: full or partial (``1955``, ``1955-03``) — never a made-up day."""
    parts = _ymd_parts(value)
    if not parts:
        return None
    y, m, d = parts
    if m == "00":
        return y
    return f"{y}-{m}" if d == "00" else f"{y}-{m}-{d}"


def bhyt_number(record: CheckInRecord) -> str | None:
    """The BHYT card number: scanned/typed with the check-in, else the one BHXH answered with."""
    if record.bhyt_card:
        return record.bhyt_card
    elig = record.eligibility or {}
    card = elig.get("card_number") or elig.get("ma_the")
    return str(card) if card else None


def _local_minute(t: datetime) -> str:
    return t.astimezone(VIETNAM_TZ).strftime("%Y%m%d%H%M")


def xml130_payload(record: CheckInRecord) -> dict[str, Any]:
    """The check-in as the XML 130 check-in table's fields (JSON, names as in the table).

    Fields the kiosk does not know (``ma_bn``, the HIS's own patient code) are left out
    rather than invented; ``ma_doituong_kcb`` is included only when the eligibility answer
    carries it.
    """
    holder = record.holder
    elig = record.eligibility or {}
    payload: dict[str, Any] = {
        "ma_lk": record.checkin_id,
        "stt": record.queue_number,
        "ho_ten": holder.get("full_name"),
        "so_cccd": holder.get("id_number"),
        "ngay_sinh": birth_130(holder.get("date_of_birth")),
        "gioi_tinh": sex_code(holder.get("sex")),
        "ma_the_bhyt": bhyt_number(record),
        "ma_dkbd": elig.get("registered_clinic"),
        "gt_the_tu": date_130(elig.get("valid_from")),
        "gt_the_den": date_130(elig.get("valid_to")),
        "ngay_vao": _local_minute(record.created_at),
    }
    if record.department:
        payload["ma_khoa"] = record.department  # the department the number counts in
    if elig.get("ma_doituong_kcb"):
        payload["ma_doituong_kcb"] = elig["ma_doituong_kcb"]
    payload["kiosk"] = {
        "method": record.method,
        "chip_verified": record.chip_verified,
        "checked_in_at": record.created_at.isoformat(),
        "eligibility_status": elig.get("status"),
        "eligibility_code": elig.get("code"),
        "eligibility_source": elig.get("source"),
        "eligibility_stale": elig.get("stale"),
        "room": record.room or None,
    }
    return payload


def _split_name(full_name: str) -> dict[str, Any]:
    """Vietnamese order: family name first, given names last (``Nguyễn Thị Ánh Tuyết``)."""
    words = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": full_name}
    if len(words) >= 2:
        name["family"] = words[0]
        name["given"] = words[1:]
    elif words:
        name["given"] = words
    return name


def fhir_bundle(record: CheckInRecord) -> dict[str, Any]:
    """A FHIR R4 transaction Bundle: Patient (conditional create on the CCCD) + Encounter.

    The Patient is created only if no Patient has the same CCCD identifier
    (``ifNoneExist``); the Encounter (``arrived``, ambulatory) is created only once per
    checkin_id, so a resent bundle does not duplicate either. Full URLs are UUIDs derived
    from the checkin_id: a retry is byte-for-byte the same document.
    """
    holder = record.holder
    patient_uuid = uuid.uuid5(_UUID_NS, record.checkin_id + "/Patient")
    encounter_uuid = uuid.uuid5(_UUID_NS, record.checkin_id + "/Encounter")
    identifiers: list[dict[str, Any]] = []
    id_number = holder.get("id_number")
    if id_number:
        identifiers.append(
            {
                "use": "official",
                "type": {"text": "CCCD"},
                "system": SYSTEM_CCCD,
                "value": str(id_number),
            }
        )
    card = bhyt_number(record)
    if card:
        identifiers.append(
            {"use": "secondary", "type": {"text": "BHYT"}, "system": SYSTEM_BHYT, "value": card}
        )
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": {"profile": [PROFILE_PATIENT]},
        "identifier": identifiers,
        "gender": _FHIR_GENDER[sex_code(holder.get("sex"))],
    }
    if holder.get("full_name"):
        patient["name"] = [_split_name(str(holder["full_name"]))]
    birth = _fhir_date(holder.get("date_of_birth"))
    if birth:
        patient["birthDate"] = birth
    patient_request: dict[str, Any] = {"method": "POST", "url": "Patient"}
    if id_number:
        patient_request["ifNoneExist"] = f"identifier={SYSTEM_CCCD}|{id_number}"
    encounter = {
        "resourceType": "Encounter",
        "meta": {"profile": [PROFILE_ENCOUNTER]},
        "identifier": [{"system": SYSTEM_CHECKIN, "value": record.checkin_id}],
        "status": "arrived",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": {"reference": f"urn:uuid:{patient_uuid}"},
        "period": {"start": record.created_at.isoformat()},
    }
    if record.department:
        encounter["serviceType"] = {
            "coding": [{"system": SYSTEM_DEPARTMENT, "code": record.department}]
        }
    if record.room:
        encounter["location"] = [{"location": {"display": f"Phòng {record.room}"}}]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": SYSTEM_CHECKIN, "value": record.checkin_id},
        "timestamp": record.created_at.isoformat(),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{patient_uuid}",
                "resource": patient,
                "request": patient_request,
            },
            {
                "fullUrl": f"urn:uuid:{encounter_uuid}",
                "resource": encounter,
                "request": {
                    "method": "POST",
                    "url": "Encounter",
                    "ifNoneExist": f"identifier={SYSTEM_CHECKIN}|{record.checkin_id}",
                },
            },
        ],
    }
