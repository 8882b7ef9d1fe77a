"""The BHXH and FHIR clients against the real gateway simulator process on 127.0.0.1.

Every result code of the simulator's data file, every fault it can switch on, token renewal,
and the circuit breaker opening during an outage (the process stopped) and closing after it
comes back. Skipped until the simulator and its fixture (tests/fixtures/gateway.py) are in the tree.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any

import pytest

from kiosk.eligibility.base import Person
from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig
from kiosk.eligibility.codes import CODES
from kiosk.eligibility.errors import (
    GatewayAuthError,
    GatewayProtocolError,
    GatewayUnavailable,
)
from kiosk.eligibility.fhir import FhirEligibilityClient
from simulators.gateway.data import InsuredData

DATA = InsuredData.load()
STAFF = next(iter(DATA.staff.values()))
PEOPLE = {p.cccd: p for p in DATA.people}
NOT_INSURED = "040192003978"  # the pace-only sample card: not in the data (050)


def person_of(p: Any, **kw: Any) -> Person:
    dob = p.fields["ngaySinh"]
    fields: dict[str, Any] = dict(
        id_number=p.cccd,
        full_name=p.card_name or p.fields["hoTen"],
        date_of_birth=datetime.strptime(dob, "%d/%m/%Y").date() if "/" in dob else None,
        birth_year=int(dob) if "/" not in dob else None,
    )
    fields.update(kw)
    return Person(**fields)


def client(gw: Any, **kw: Any) -> BhxhClient:
    cfg: dict[str, Any] = dict(
        base_url=gw.url,
        username=gw.username,
        password=gw.password,
        staff_name=STAFF.name,
        staff_cccd=STAFF.cccd,
        total_timeout=3.0,
        backoff_s=0.05,
    )
    cfg.update(kw)
    return BhxhClient(BhxhConfig(**cfg))


@pytest.fixture
def gw(clean_gateway: Any) -> Any:
    return clean_gateway


# -- every result code ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2024", "2019"])
def test_every_person_in_the_data_file(gw: Any, version: str) -> None:
    with client(gw, api_version=version) as c:
        for p in DATA.people:
            r = c.check(person_of(p))
            if p.card_name:  # the CCCD's name differs from the one BHXH registered
                assert r.code in ("060", "061"), p.fields["maThe"]
                continue
            assert r.code == p.code, p.fields["maThe"]
            assert r.status == CODES[r.code].status
            if r.code in ("000", "001", "002", "004"):
                assert r.valid_to is not None and r.registered_clinic
                assert r.card_number is not None and len(r.card_number) == 15
                if r.code == "004":
                    assert r.card_number == p.fields.get("maTheMoi")
        assert c.tokens_taken == 1  # one token for the whole run


def test_default_card_details(gw: Any) -> None:
    with client(gw) as c:
        r = c.check(person_of(PEOPLE["001088034517"]))
    assert (r.status, r.code, r.source, r.stale) == ("eligible", "000", "live", False)
    year = date.today().year
    assert (r.valid_from, r.valid_to) == (date(year, 1, 1), date(year, 12, 31))
    assert (r.registered_clinic, r.card_number) == ("01001", "DN4010188034517")
    assert r.message and r.as_of.tzinfo is not None


def test_mismatch_and_lookup_codes(gw: Any) -> None:
    p = PEOPLE["001088034517"]
    base = person_of(p)
    maso = p.fields["maSoBHXH"]
    cases = {
        "050": Person(NOT_INSURED, "Vi Thị Thu Hà", date(1992, 1, 1)),
        "060": Person(base.id_number, "Hoàng Văn Nam", base.date_of_birth),
        "061": Person(base.id_number, "Trần Đức Mạnh", base.date_of_birth),
        "070": Person(base.id_number, base.full_name, date(1988, 7, 22)),
        "051": Person("XX401" + maso, base.full_name, base.date_of_birth),
        "053": Person("DN901" + maso, base.full_name, base.date_of_birth),
        "052": Person("DN499" + maso, base.full_name, base.date_of_birth),
    }
    with client(gw) as c:
        for code, person in cases.items():
            r = c.check(person)
            assert r.code == code
            assert r.status == CODES[code].status
    assert CODES["050"].status == "not_eligible"


@pytest.mark.parametrize(
    ("staff_name", "staff_cccd", "code"),
    [
        ("Nguyễn Thị Thu Hằng", "001099999999", "054"),
        ("Phạm Văn Long", "001185000123", "055"),
        ("Nguyễn Thị Thu Hằng", "12345", "205"),
    ],
)
def test_staff_codes(gw: Any, staff_name: str, staff_cccd: str, code: str) -> None:
    with client(gw, staff_name=staff_name, staff_cccd=staff_cccd) as c:
        r = c.check(person_of(PEOPLE["001088034517"]))
    assert (r.code, r.status) == (code, "unknown")
    assert "administrator" in r.advice_en


# -- faults ---------------------------------------------------------------------------------


def test_latency(gw: Any) -> None:
    gw.set_fault("latency", ms=300)
    with client(gw) as c:
        t = time.monotonic()
        assert c.check(person_of(PEOPLE["001088034517"])).code == "000"
        assert time.monotonic() - t >= 0.3


def test_5xx_once_is_retried(gw: Any) -> None:
    target = "001088034517"
    gw.set_fault("5xx", target=target, count=1, status=503)
    with client(gw) as c:
        assert c.check(person_of(PEOPLE[target])).code == "000"
        assert c.attempts == 3  # token + failed check + retried check


def test_5xx_standing_is_unavailable_after_the_retries(gw: Any) -> None:
    target = "001088034517"
    gw.set_fault("5xx", target=target)
    with client(gw, retries=2) as c:
        with pytest.raises(GatewayUnavailable, match="HTTP 500"):
            c.check(person_of(PEOPLE[target]))
        assert c.attempts == 1 + 3


def test_hang_is_cut_by_the_total_timeout(gw: Any) -> None:
    target = "001088034517"
    gw.set_fault("hang", target=target, seconds=20)
    with client(gw, total_timeout=1.0) as c:
        t = time.monotonic()
        with pytest.raises(GatewayUnavailable):
            c.check(person_of(PEOPLE[target]))
        assert time.monotonic() - t < 2.0


def test_malformed_json(gw: Any) -> None:
    target = "001088034517"
    gw.set_fault("malformed", target=target, count=1)
    with client(gw) as c:
        with pytest.raises(GatewayProtocolError):
            c.check(person_of(PEOPLE[target]))
        assert c.breaker.state == "closed"
        assert c.check(person_of(PEOPLE[target])).code == "000"


def test_401_once_renews_the_token(gw: Any) -> None:
    target = "001088034517"
    with client(gw) as c:
        assert c.check(person_of(PEOPLE[target])).code == "000"
        gw.set_fault("401", target=target, count=1)
        assert c.check(person_of(PEOPLE[target])).code == "000"
        assert c.tokens_taken == 2


def test_401_standing_is_an_auth_error(gw: Any) -> None:
    target = "001088034517"
    gw.set_fault("401", target=target)
    with client(gw) as c, pytest.raises(GatewayAuthError):
        c.check(person_of(PEOPLE[target]))


def test_token_expiry_renews(gw: Any) -> None:
    with client(gw) as c:
        assert c.check(person_of(PEOPLE["001088034517"])).code == "000"
        gw.set_fault("token-expiry", count=0)  # kills every token issued so far
        assert c.check(person_of(PEOPLE["046196008821"])).code == "000"
        assert c.tokens_taken == 2


def test_wrong_password_is_an_auth_error(gw: Any) -> None:
    with client(gw, password="not-it") as c, pytest.raises(GatewayAuthError):
        c.check(person_of(PEOPLE["001088034517"]))


# -- breaker across an outage ---------------------------------------------------------------


def test_breaker_opens_during_an_outage_and_closes_after(gw: Any) -> None:
    p = person_of(PEOPLE["001088034517"])
    with client(gw, breaker_failures=3, breaker_reset_s=0.5) as c:
        assert c.check(p).code == "000"
        gw.stop()
        try:
            for _ in range(3):
                with pytest.raises(GatewayUnavailable):
                    c.check(p)
            assert c.breaker.state == "open"
            sent = c.attempts
            t = time.monotonic()
            with pytest.raises(GatewayUnavailable, match="circuit open"):
                c.check(p)
            assert time.monotonic() - t < 0.05 and c.attempts == sent
        finally:
            gw.start()
        time.sleep(0.5)
        assert c.check(p).code == "000"
        assert c.breaker.state == "closed"


# -- FHIR -----------------------------------------------------------------------------------


def test_fhir_every_person(gw: Any) -> None:
    with FhirEligibilityClient(gw.url + "/fhir", total_timeout=3.0) as c:
        for p in DATA.people:
            if p.card_name:
                continue
            r = c.check(person_of(p))
            assert r.code == p.code
            assert r.status == CODES[p.code].status
            if p.fields.get("maTheMoi"):
                assert r.card_number == p.fields["maTheMoi"]
        r = c.check(person_of(PEOPLE["001088034517"]))
        assert (r.card_number, r.registered_clinic, r.valid_to) == (
            "DN4010188034517",
            "01001",
            date(date.today().year, 12, 31),
        )
        assert c.check(Person(NOT_INSURED, "Vi Thị Thu Hà", date(1992, 1, 1))).code == "050"


def test_fhir_bad_token_and_outage(gw: Any) -> None:
    with (
        FhirEligibilityClient(gw.url + "/fhir", token="nope") as c,
        pytest.raises(GatewayAuthError),
    ):
        c.check(person_of(PEOPLE["001088034517"]))
    gw.set_fault("5xx")
    with FhirEligibilityClient(gw.url + "/fhir", backoff_s=0.01) as c:
        with pytest.raises(GatewayUnavailable):
            c.check(person_of(PEOPLE["001088034517"]))
        assert c.attempts == 3


# -- privacy --------------------------------------------------------------------------------


def test_no_personal_data_in_logs(gw: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), client(gw) as c:
        for p in DATA.people:
            c.check(person_of(p))
        gw.set_fault("5xx", count=1)
        c.check(person_of(PEOPLE["001088034517"]))
    text = caplog.text + gw.log()
    assert "maKetQua=000" in caplog.text
    for p in DATA.people:
        for secret in (p.cccd, p.fields["hoTen"], p.fields["ngaySinh"], p.fields["maThe"]):
            assert not secret or secret not in text, "personal data in the logs"
    for secret in (gw.password, gw.password_md5, STAFF.cccd, STAFF.name):
        assert secret not in text
