"""FHIR R4 eligibility: ``CoverageEligibilityRequest`` in, ``CoverageEligibilityResponse`` out.

For deployments outside the BHXH network, the simulator answers the same check as FHIR on
``POST /fhir/CoverageEligibilityRequest/$submit`` (and plain
``POST /fhir/CoverageEligibilityRequest``). ``Authorization: Bearer <access_token>`` from
``/api/token/take`` is optional; when sent, it must be valid (else HTTP 401).

Request (what the simulator reads; everything else is ignored)::

    {"resourceType": "CoverageEligibilityRequest", "status": "active",
     "purpose": ["validation"],
     "patient": {"identifier": {"system": "https://cccd.gov.vn", "value": "001088034517"}},
     "contained": [  # optional: name and birth date are then checked (060/061/070)
        {"resourceType": "Patient", "id": "p",
         "identifier": [{"system": "https://cccd.gov.vn", "value": "001088034517"}],
         "name": [{"text": "Trần Đức Minh"}], "birthDate": "1988-07-21"}]}

The patient is ``patient.identifier.value`` or, with ``patient.reference = "#p"``, the
contained Patient's first identifier. The value is looked up like ``maThe`` (CCCD, BHYT
number or maSoBHXH). ``birthDate`` may be ``yyyy-MM-dd`` or ``yyyy``. Not JSON, not an object
or not a CoverageEligibilityRequest → HTTP 400 with an ``OperationOutcome``.

Response (HTTP 200)::

    {"resourceType": "CoverageEligibilityResponse", "id": "<uuid>", "status": "active",
     "purpose": ["validation"],
     "patient": {"identifier": {"system": CCCD_SYSTEM, "value": "001088034517"}},
     "created": "2026-11-24T15:04:05+07:00",
     "request": {"identifier": {"value": "<request id, if it had one>"}},
     "outcome": "complete",            # "error" when the person was not found / data wrong
     "disposition": "000: Thông tin thẻ chính xác.",   # "<maKetQua>: <ghiChu>"
     "insurer": {"display": "Bảo hiểm xã hội Việt Nam"},
     "extension": [{"url": EXT_RESULT_CODE, "valueCode": "000"}],   # always: the maKetQua
     "insurance": [{                   # only when outcome is "complete"
        "coverage": {"identifier": {"system": BHYT_SYSTEM, "value": "DN4010188034517"},
                     "display": "DN4010188034517"},
        "inforce": true,               # true for 000, 001, 002, 004; false otherwise
        "benefitPeriod": {"start": "2026-01-01", "end": "2026-12-31"},  # absent if unknown
        "extension": [{"url": EXT_REGISTERED_CLINIC,
                       "valueIdentifier": {"system": MA_DKBD_SYSTEM, "value": "01001"}},
                      {"url": EXT_REGISTERED_CLINIC_NAME,
                       "valueString": "Phòng khám Đa khoa Mẫu Hà Nội"},
                      # 003 / 004 only: the new card (maTheMoi)
                      {"url": EXT_NEW_CARD,
                       "valueIdentifier": {"system": BHYT_SYSTEM, "value": "HT3..."}}]}],
     "error": [{"code": {"coding": [{"system": EXT_RESULT_CODE, "code": "050"}],
                         "text": "Không thấy thông tin thẻ BHYT."}}]}   # only for "error"

The identifier systems and extension URLs are the simulator's own (the draft Vietnamese core
IG's NamingSystems are not final); the simulator accepts any ``system`` on the way in.

``outcome`` is ``complete`` whenever the person was found (codes 000–004, 010, 110, 120, 130;
``inforce`` says whether the card is usable today) and ``error`` otherwise (050–070, 205).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from simulators.gateway.data import INFORCE_CODES, MESSAGES, CheckResult, InsuredData

CCCD_SYSTEM = "https://cccd.gov.vn"
BHYT_SYSTEM = "https://baohiemxahoi.gov.vn/bhyt"
MA_DKBD_SYSTEM = "https://baohiemxahoi.gov.vn/ma-dkbd"
EXT_RESULT_CODE = "https://baohiemxahoi.gov.vn/fhir/StructureDefinition/ma-ket-qua"
EXT_REGISTERED_CLINIC = "https://baohiemxahoi.gov.vn/fhir/StructureDefinition/registered-clinic"
EXT_REGISTERED_CLINIC_NAME = (
    "https://baohiemxahoi.gov.vn/fhir/StructureDefinition/registered-clinic-name"
)
EXT_NEW_CARD = "https://baohiemxahoi.gov.vn/fhir/StructureDefinition/new-card"

_VN = timezone(timedelta(hours=7))


class FhirError(ValueError):
    """The body is not a usable CoverageEligibilityRequest (HTTP 400)."""


def operation_outcome(text: str, code: str = "invalid") -> dict[str, Any]:
    """A one-issue ``OperationOutcome`` for HTTP-level errors."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def patient_of(request: Any) -> tuple[str, str | None, str | None]:
    """(identifier value, name or None, birth date as yyyy-MM-dd / yyyy or None)."""
    if not isinstance(request, dict) or request.get("resourceType") != (
        "CoverageEligibilityRequest"
    ):
        raise FhirError("expected a CoverageEligibilityRequest")
    patient = request.get("patient")
    if not isinstance(patient, dict):
        raise FhirError("patient is missing")
    contained: dict[str, Any] | None = None
    ref = patient.get("reference")
    if isinstance(ref, str) and ref.startswith("#"):
        for res in request.get("contained") or []:
            if isinstance(res, dict) and res.get("id") == ref[1:]:
                contained = res
    value: Any = None
    ident = patient.get("identifier")
    if isinstance(ident, dict):
        value = ident.get("value")
    elif contained is not None:
        idents = contained.get("identifier") or []
        if idents and isinstance(idents[0], dict):
            value = idents[0].get("value")
    if not isinstance(value, str) or not value.strip():
        raise FhirError("patient identifier (CCCD) is missing")
    name = birth = None
    if contained is not None:
        names = contained.get("name") or []
        if names and isinstance(names[0], dict):
            n = names[0]
            text = n.get("text")
            if not isinstance(text, str):
                given = n.get("given") or []
                text = " ".join([str(n.get("family", "")), *map(str, given)]).strip() or None
            name = text
        bd = contained.get("birthDate")
        birth = bd if isinstance(bd, str) else None
    return value.strip(), name, birth


def check(data: InsuredData, request: Any) -> tuple[str, CheckResult]:
    """Run the card check a request asks for; (patient identifier, result)."""
    value, name, birth = patient_of(request)
    if name is None and birth is None:
        code, person = data.find(value.upper())
        return value, CheckResult(person.code if person else code, person)
    if name is None or birth is None:
        raise FhirError("a contained Patient needs both name and birthDate")
    return value, data.check(value, name, _gateway_date(birth))


def _gateway_date(fhir_date: str) -> str:
    """yyyy-MM-dd → dd/MM/yyyy; yyyy stays; anything else is passed on (→ 205)."""
    parts = fhir_date.split("-")
    if len(parts) == 3:
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    return fhir_date


def _fhir_date(gateway_date: str) -> str | None:
    parts = gateway_date.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}-{parts[1]}-{parts[0]}"
    return None


def response(value: str, result: CheckResult, request: dict[str, Any]) -> dict[str, Any]:
    """The ``CoverageEligibilityResponse`` for one result (shape in the module docstring)."""
    code = result.code
    message = MESSAGES.get(code, "")
    out: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "id": str(uuid.uuid4()),
        "status": "active",
        "purpose": ["validation"],
        "patient": {"identifier": {"system": CCCD_SYSTEM, "value": value}},
        "created": datetime.now(_VN).isoformat(timespec="seconds"),
        "outcome": "complete" if result.person is not None else "error",
        "disposition": f"{code}: {message}",
        "insurer": {"display": "Bảo hiểm xã hội Việt Nam"},
        "extension": [{"url": EXT_RESULT_CODE, "valueCode": code}],
    }
    if isinstance(request.get("id"), str):
        out["request"] = {"identifier": {"value": request["id"]}}
    person = result.person
    if person is None:
        out["error"] = [
            {"code": {"coding": [{"system": EXT_RESULT_CODE, "code": code}], "text": message}}
        ]
        return out
    f = person.fields
    insurance: dict[str, Any] = {
        "coverage": {
            "identifier": {"system": BHYT_SYSTEM, "value": f.get("maThe", "")},
            "display": f.get("maThe", ""),
        },
        "inforce": code in INFORCE_CODES,
    }
    start, end = _fhir_date(f.get("gtTheTu", "")), _fhir_date(f.get("gtTheDen", ""))
    if start or end:
        insurance["benefitPeriod"] = {k: v for k, v in (("start", start), ("end", end)) if v}
    if f.get("maDKBD"):
        insurance["extension"] = [
            {
                "url": EXT_REGISTERED_CLINIC,
                "valueIdentifier": {"system": MA_DKBD_SYSTEM, "value": f["maDKBD"]},
            },
            {"url": EXT_REGISTERED_CLINIC_NAME, "valueString": person.clinic_name},
        ]
    if f.get("maTheMoi"):
        insurance.setdefault("extension", []).append(
            {
                "url": EXT_NEW_CARD,
                "valueIdentifier": {"system": BHYT_SYSTEM, "value": f["maTheMoi"]},
            }
        )
    out["insurance"] = [insurance]
    return out
