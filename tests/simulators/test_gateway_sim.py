"""The BHXH gateway simulator as a real process, spoken to with raw httpx.

Token flow, every result code of the data file through both card-check versions, the FHIR
endpoint, each fault, the loopback-only admin, bad input, and a log free of personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.gateway.data import RESPONSE_FIELDS, InsuredData
from simulators.gateway.server import is_loopback, md5_hex
from tests.fixtures.gateway import ROOT, GatewayProcess

DATA = InsuredData.load()
PROFILES = ROOT / "simulators" / "card" / "profiles"
STAFF = {"hoTenCb": "Nguyễn Thị Thu Hằng", "cccdCb": "001185000123"}
FHIR_SUBMIT = "/fhir/CoverageEligibilityRequest/$submit"

#: What each sample card gets from the gateway (the issue's table).
EXPECTED_BY_CARD = {
    "default": "000",
    "anh-tuyet": "000",
    "bac-only": "010",
    "big-photo": "004",
    "elder": "001",
    "fussy": "110",
    "teen": "000",
    "pace-only": "050",
}


def _profile(card: str) -> dict[str, Any]:
    person: dict[str, Any] = tomllib.loads((PROFILES / f"{card}.toml").read_text())["person"]
    return person


def _gateway_date(d: Any) -> str:
    return d.strftime("%d/%m/%Y")


def token(gw: GatewayProcess) -> dict[str, Any]:
    """A fresh APIKey from /api/token/take."""
    r = httpx.post(
        f"{gw.url}/api/token/take",
        json={"username": gw.username, "password": gw.password_md5},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["maKetQua"] == "200"
    key: dict[str, Any] = body["APIKey"]
    return key


def check(
    gw: GatewayProcess,
    body: Any,
    *,
    version: str = "2024",
    key: dict[str, Any] | None = None,
    timeout: float = 5,
) -> httpx.Response:
    """POST one card check with a (fresh unless given) token in the query string."""
    key = key or token(gw)
    params = {
        "token": key["access_token"],
        "id_token": key["id_token"],
        "username": gw.username,
        "password": gw.password_md5,
    }
    url = f"{gw.url}/api/egw/KQNhanLichSuKCB{version}"
    if isinstance(body, bytes):
        return httpx.post(url, params=params, content=body, timeout=timeout)
    return httpx.post(url, params=params, json=body, timeout=timeout)


def person_body(cccd: str, name: str, dob: str, staff: bool = True) -> dict[str, str]:
    return {"maThe": cccd, "hoTen": name, "ngaySinh": dob, **(STAFF if staff else {})}


def code_of(gw: GatewayProcess, body: dict[str, str], version: str = "2024") -> str:
    r = check(gw, body, version=version)
    assert r.status_code == 200, r.text
    code: str = r.json()["maKetQua"]
    return code


# -- data file ------------------------------------------------------------------------------


@pytest.mark.parametrize("card", sorted(EXPECTED_BY_CARD))
def test_data_matches_sample_cards(card: str) -> None:
    """The data file holds each sample card's holder as the chip has them (pace-only: absent)."""
    p = _profile(card)
    entry = next((x for x in DATA.people if x.cccd == p["id_number"]), None)
    if EXPECTED_BY_CARD[card] == "050":
        assert entry is None
        return
    assert entry is not None and entry.card == card
    assert entry.fields["hoTen"] == p["full_name"]
    assert entry.fields["ngaySinh"] == _gateway_date(p["date_of_birth"])
    assert entry.fields["gioiTinh"] == p["sex"]
    assert entry.code == EXPECTED_BY_CARD[card]
    assert entry.fields["maThe"][5:] == entry.fields["maSoBHXH"]


# -- token ----------------------------------------------------------------------------------


def test_token_flow(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    bad = httpx.post(
        f"{gw.url}/api/token/take",
        json={"username": gw.username, "password": md5_hex("wrong")},
        timeout=5,
    )
    assert bad.status_code == 401 and bad.json()["maKetQua"] == "401"
    plain = httpx.post(  # the clear password is not accepted: clients send its MD5
        f"{gw.url}/api/token/take",
        json={"username": gw.username, "password": gw.password},
        timeout=5,
    )
    assert plain.status_code == 401
    key = token(gw)
    assert set(key) >= {"access_token", "id_token", "expires_in", "username"}
    assert key["username"] == gw.username and key["expires_in"] == 3600
    body = person_body("001088034517", "Trần Đức Minh", "21/07/1988")
    assert check(gw, body, key=key).json()["maKetQua"] == "000"
    for broken in ("access_token", "id_token"):
        wrong = {**key, broken: key[broken] + "x"}
        r = check(gw, body, key=wrong)
        assert r.status_code == 401 and r.json()["maKetQua"] == "401"


def test_no_token_is_401(clean_gateway: GatewayProcess) -> None:
    r = httpx.post(
        f"{clean_gateway.url}/api/egw/KQNhanLichSuKCB2024",
        json=person_body("001088034517", "Trần Đức Minh", "21/07/1988"),
        timeout=5,
    )
    assert r.status_code == 401 and r.json()["maKetQua"] == "401"


# -- every code -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2024", "2019"])
def test_every_person_in_the_data(clean_gateway: GatewayProcess, version: str) -> None:
    """Each entry answers its own maKetQua, with its data when found; pace-only is 050."""
    key = token(clean_gateway)
    for person in DATA.people:
        f = person.fields
        body = person_body(person.cccd, f["hoTen"], f["ngaySinh"], staff=version == "2024")
        r = check(clean_gateway, body, version=version, key=key)
        assert r.status_code == 200
        reply = r.json()
        assert list(reply) == list(RESPONSE_FIELDS)
        assert reply["maKetQua"] == person.code, person.cccd
        assert reply["ghiChu"]
        assert reply["maThe"] == f["maThe"] and reply["maDKBD"] == f["maDKBD"]
        assert reply["gtTheDen"] == f["gtTheDen"] and reply["dsLichSuKCB2018"] is None
    p = _profile("pace-only")
    body = person_body(p["id_number"], p["full_name"], _gateway_date(p["date_of_birth"]))
    reply = check(clean_gateway, body, version=version, key=key).json()
    assert reply["maKetQua"] == "050" and reply["hoTen"] is None


def test_sample_cards_codes(clean_gateway: GatewayProcess) -> None:
    for card, expected in EXPECTED_BY_CARD.items():
        p = _profile(card)
        body = person_body(p["id_number"], p["full_name"], _gateway_date(p["date_of_birth"]))
        assert code_of(clean_gateway, body) == expected, card


def test_new_card_fields(clean_gateway: GatewayProcess) -> None:
    reply = check(clean_gateway, person_body("031085009214", "Đặng Quốc Việt", "02/12/1985"))
    assert reply.json()["maTheMoi"] == "HT3313185009214"
    assert reply.json()["tenDKBDMoi"]


def test_names_and_birth_dates(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    with_card_name = [p for p in DATA.people if p.card_name]
    assert with_card_name
    got = {
        code_of(gw, person_body(p.cccd, p.card_name, p.fields["ngaySinh"])) for p in with_card_name
    }
    assert got == {"060", "061"}
    assert code_of(gw, person_body("001092012346", "Giang Văn Tú", "05/09/1992")) == "060"
    assert code_of(gw, person_body("036190004411", "Lí Thị Mai", "1990")) == "061"
    assert code_of(gw, person_body("001088034517", "Nguyễn Đức Minh", "21/07/1988")) == "060"
    assert code_of(gw, person_body("001088034517", "Trần Đức Mạnh", "21/07/1988")) == "061"
    # case and spacing do not matter; a birth year alone compares the year
    assert code_of(gw, person_body("001088034517", " trần  ĐỨC minh ", "1988")) == "000"
    assert code_of(gw, person_body("001088034517", "Trần Đức Minh", "22/07/1988")) == "070"
    assert code_of(gw, person_body("001088034517", "Trần Đức Minh", "1989")) == "070"
    assert code_of(gw, person_body("036190004411", "Lý Thị Mai", "12/03/1990")) == "000"


def test_lookup_by_card_number(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    name, dob = "Trần Đức Minh", "21/07/1988"
    assert code_of(gw, person_body("DN4010188034517", name, dob)) == "000"
    assert code_of(gw, person_body("dn4010188034517", name, dob)) == "000"
    assert code_of(gw, person_body("0188034517", name, dob)) == "000"
    assert code_of(gw, person_body("HS4010188034517", name, dob)) == "051"
    assert code_of(gw, person_body("DN4790188034517", name, dob)) == "052"
    assert code_of(gw, person_body("DN2010188034517", name, dob)) == "053"
    assert code_of(gw, person_body("DN40101", name, dob)) == "051"
    assert code_of(gw, person_body("DN4019999999999", name, dob)) == "050"


def test_staff_and_parameters(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    base = person_body("001088034517", "Trần Đức Minh", "21/07/1988")
    assert code_of(gw, {**base, "cccdCb": "001099999999"}) == "054"
    assert code_of(gw, {**base, "hoTenCb": "Phạm Văn Long"}) == "055"
    for missing in ("hoTenCb", "cccdCb", "maThe", "hoTen", "ngaySinh"):
        body = {k: v for k, v in base.items() if k != missing}
        assert code_of(gw, body) == "205", missing
    assert code_of(gw, {**base, "cccdCb": "12345"}) == "205"
    assert code_of(gw, {**base, "ngaySinh": "1988-07-21"}) == "205"
    assert code_of(gw, {**base, "maThe": 1088034517}) == "205"  # type: ignore[dict-item]
    # the 2019 version needs no staff
    body2019 = {k: v for k, v in base.items() if not k.endswith("Cb")}
    assert code_of(gw, body2019, version="2019") == "000"


def test_bad_json_is_http_400(clean_gateway: GatewayProcess) -> None:
    for raw in (b"{not json", b"[1, 2]", b""):
        r = check(clean_gateway, raw)
        assert r.status_code == 400 and r.json()["maKetQua"] == "205", raw
    r = httpx.post(f"{clean_gateway.url}/api/token/take", content=b"{", timeout=5)
    assert r.status_code == 400 and r.json()["maKetQua"] == "205"


# -- FHIR -----------------------------------------------------------------------------------


def fhir_request(cccd: str, **patient: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "resourceType": "CoverageEligibilityRequest",
        "id": "req-1",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"identifier": {"system": "https://cccd.gov.vn", "value": cccd}},
    }
    if patient:
        req["patient"] = {"reference": "#p"}
        req["contained"] = [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"value": cccd}],
                "name": [{"text": patient["name"]}],
                "birthDate": patient["birth"],
            }
        ]
    return req


def submit(gw: GatewayProcess, req: Any, path: str = FHIR_SUBMIT, **kw: Any) -> httpx.Response:
    if isinstance(req, bytes):
        return httpx.post(f"{gw.url}{path}", content=req, timeout=5, **kw)
    return httpx.post(f"{gw.url}{path}", json=req, timeout=5, **kw)


def test_fhir_valid(clean_gateway: GatewayProcess) -> None:
    r = submit(clean_gateway, fhir_request("001088034517"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    res = r.json()
    assert res["resourceType"] == "CoverageEligibilityResponse"
    assert res["outcome"] == "complete" and res["request"]["identifier"]["value"] == "req-1"
    assert res["disposition"].startswith("000")
    assert res["extension"][0]["valueCode"] == "000"
    ins = res["insurance"][0]
    assert ins["inforce"] is True
    year = dt.date.today().year
    assert ins["benefitPeriod"] == {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    assert ins["coverage"]["identifier"]["value"] == "DN4010188034517"
    clinic = {e["url"].rsplit("/", 1)[1]: e for e in ins["extension"]}
    assert clinic["registered-clinic"]["valueIdentifier"]["value"] == "01001"
    assert clinic["registered-clinic-name"]["valueString"]


def test_fhir_codes(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    expired = submit(gw, fhir_request("092079005136"), "/fhir/CoverageEligibilityRequest").json()
    assert expired["outcome"] == "complete" and expired["insurance"][0]["inforce"] is False
    assert expired["extension"][0]["valueCode"] == "010"
    renewed = submit(gw, fhir_request("031085009214")).json()["insurance"][0]
    assert renewed["inforce"] is True
    assert renewed["extension"][-1]["valueIdentifier"]["value"] == "HT3313185009214"
    missing = submit(gw, fhir_request("040192003978")).json()
    assert missing["outcome"] == "error" and "insurance" not in missing
    assert missing["error"][0]["code"]["coding"][0]["code"] == "050"
    good = submit(gw, fhir_request("001088034517", name="Trần Đức Minh", birth="1988-07-21"))
    assert good.json()["extension"][0]["valueCode"] == "000"
    wrong = submit(gw, fhir_request("001092012346", name="Giang Văn Tú", birth="1992-09-05"))
    assert wrong.json()["outcome"] == "error"
    assert wrong.json()["extension"][0]["valueCode"] == "060"
    dob = submit(gw, fhir_request("001088034517", name="Trần Đức Minh", birth="1988-07-22"))
    assert dob.json()["extension"][0]["valueCode"] == "070"


def test_fhir_bad_requests_and_token(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    for bad in (
        b"{",
        b"[]",
        {"resourceType": "Patient"},
        {"resourceType": "CoverageEligibilityRequest"},
    ):
        r = submit(gw, bad)
        assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome", bad
    key = token(gw)
    ok = submit(
        gw, fhir_request("079212004562"), headers={"Authorization": f"Bearer {key['access_token']}"}
    )
    assert ok.status_code == 200 and ok.json()["outcome"] == "complete"
    r = submit(gw, fhir_request("079212004562"), headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"


# -- faults ---------------------------------------------------------------------------------

DEFAULT_BODY = person_body("001088034517", "Trần Đức Minh", "21/07/1988")
TEEN_BODY = person_body("079212004562", "Phạm Gia Bảo", "18/03/2012")


def test_fault_latency(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    gw.set_fault("latency", ms=400, count=1)
    t0 = time.monotonic()
    assert check(gw, DEFAULT_BODY, key=key).json()["maKetQua"] == "000"
    assert time.monotonic() - t0 >= 0.4
    t0 = time.monotonic()
    check(gw, DEFAULT_BODY, key=key)
    assert time.monotonic() - t0 < 0.3  # count 1: spent
    gw.set_fault("latency", target="079212004562", ms=400)
    t0 = time.monotonic()
    check(gw, DEFAULT_BODY, key=key)
    assert time.monotonic() - t0 < 0.3  # someone else's latency
    t0 = time.monotonic()
    check(gw, TEEN_BODY, key=key)
    assert time.monotonic() - t0 >= 0.4


def test_fault_5xx_count_and_target(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    gw.set_fault("5xx", count=2, status=503)
    assert [check(gw, DEFAULT_BODY, key=key).status_code for _ in range(3)] == [503, 503, 200]
    gw.set_fault("5xx", target="079212004562")
    assert check(gw, DEFAULT_BODY, key=key).status_code == 200
    r = check(gw, TEEN_BODY, key=key)
    assert r.status_code == 500 and r.json()["maKetQua"] == "500"
    assert gw.stats()["faults"][0]["target"] == "079212004562"
    gw.clear_faults()
    assert check(gw, TEEN_BODY, key=key).status_code == 200
    gw.set_fault("5xx", count=1)
    assert httpx.post(f"{gw.url}/api/token/take", json={}, timeout=5).status_code == 500


def test_fault_hang_keeps_others_served(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    gw.set_fault("hang", target="079212004562", seconds=20)
    started = threading.Event()
    outcome: list[BaseException] = []

    def hung() -> None:
        started.set()
        try:
            check(gw, TEEN_BODY, key=key, timeout=1.5)
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=hung)
    t.start()
    started.wait()
    time.sleep(0.2)
    t0 = time.monotonic()
    assert check(gw, DEFAULT_BODY, key=key).json()["maKetQua"] == "000"
    assert time.monotonic() - t0 < 1.0
    t.join(10)
    assert outcome and isinstance(outcome[0], httpx.ReadTimeout)


def test_fault_malformed(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    gw.set_fault("malformed", count=1)
    r = check(gw, DEFAULT_BODY, key=key)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert check(gw, DEFAULT_BODY, key=key).json()["maKetQua"] == "000"
    gw.set_fault("malformed", count=1)
    with pytest.raises(json.JSONDecodeError):
        submit(gw, fhir_request("001088034517")).json()


def test_fault_401(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    gw.set_fault("401", count=1)
    r = check(gw, DEFAULT_BODY, key=key)
    assert r.status_code == 401 and r.json()["maKetQua"] == "401"
    assert check(gw, DEFAULT_BODY, key=key).status_code == 200


def test_fault_token_expiry(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    old = token(gw)
    assert check(gw, DEFAULT_BODY, key=old).status_code == 200
    gw.set_fault("token-expiry", count=1)
    r = check(gw, DEFAULT_BODY, key=old)
    assert r.status_code == 401 and r.json()["maKetQua"] == "401"
    born_dead = token(gw)
    assert born_dead["expires_in"] == 3600  # advertised as usual
    assert check(gw, DEFAULT_BODY, key=born_dead).status_code == 401
    fresh = token(gw)
    assert check(gw, DEFAULT_BODY, key=fresh).status_code == 200
    with pytest.raises(httpx.HTTPStatusError):
        gw.set_fault("token-expiry", target="001088034517")


def test_admin_faults_validation_and_stats(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    for bad in (
        {"fault": "boom"},
        {"fault": "latency"},
        {"fault": "5xx", "status": 404},
        {"fault": "5xx", "count": -1},
        {"fault": "hang", "target": ""},
    ):
        r = httpx.post(f"{gw.url}/admin/faults", json=bad, timeout=5)
        assert r.status_code == 400, bad
    assert httpx.post(f"{gw.url}/admin/faults", content=b"{", timeout=5).status_code == 400
    before = gw.stats()
    token(gw)
    check(gw, DEFAULT_BODY)
    check(gw, DEFAULT_BODY, version="2019")
    after = gw.stats()
    assert after["tokens_issued"] == before["tokens_issued"] + 3
    assert after["requests"]["token"] == before["requests"].get("token", 0) + 3
    assert after["requests"]["check2024"] == before["requests"].get("check2024", 0) + 1
    assert after["requests"]["check2019"] == before["requests"].get("check2019", 0) + 1
    assert httpx.get(f"{gw.url}/admin/health", timeout=5).json()["status"] == "ok"
    assert httpx.get(f"{gw.url}/nowhere", timeout=5).status_code == 404


def test_restart_keeps_the_url(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    url = gw.url
    gw.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/admin/health", timeout=2)
    gw.start()
    assert gw.url == url
    assert code_of(gw, DEFAULT_BODY) == "000"


# -- processes with other options -----------------------------------------------------------


def test_latency_ms_at_start() -> None:
    gw = GatewayProcess("--latency-ms", "300")
    gw.start()
    try:
        t0 = time.monotonic()
        token(gw)
        assert time.monotonic() - t0 >= 0.3
    finally:
        gw.close()


def test_token_lifetime() -> None:
    """A token past its expires_in is refused with HTTP 401 / maKetQua 401."""
    gw = GatewayProcess("--token-ttl", "1")
    gw.start()
    try:
        key = token(gw)
        assert key["expires_in"] == 1
        assert check(gw, DEFAULT_BODY, key=key).status_code == 200
        time.sleep(1.2)
        r = check(gw, DEFAULT_BODY, key=key)
        assert r.status_code == 401 and r.json()["maKetQua"] == "401"
        r = submit(
            gw,
            fhir_request("001088034517"),
            headers={"Authorization": "Bearer " + key["access_token"]},
        )
        assert r.status_code == 401
    finally:
        gw.close()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent; picks the outgoing interface
        except OSError:
            return None
        addr: str = s.getsockname()[0]
    return None if is_loopback(addr) or addr == "0.0.0.0" else addr


def test_is_loopback() -> None:
    for host in ("127.0.0.1", "127.0.0.5", "::1", "localhost", "::ffff:127.0.0.1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "example.org"):
        assert not is_loopback(host), host


def test_admin_is_loopback_only() -> None:
    addr = _non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    gw = GatewayProcess("--host", "0.0.0.0", "--allow-remote")
    gw.start()
    try:
        remote = f"http://{addr}:{gw.port}"
        assert httpx.get(f"{remote}/admin/health", timeout=5).status_code == 403
        r = httpx.post(f"{remote}/admin/faults", json={"fault": "5xx"}, timeout=5)
        assert r.status_code == 403
        assert httpx.delete(f"{remote}/admin/faults", timeout=5).status_code == 403
        assert httpx.get(f"{remote}/admin/stats", timeout=5).status_code == 403
        assert gw.stats()["faults"] == []
        r = httpx.post(  # the service itself answers remote clients when allowed
            f"{remote}/api/token/take",
            json={"username": gw.username, "password": gw.password_md5},
            timeout=5,
        )
        assert r.status_code == 200
    finally:
        gw.close()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "gateway", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_refuses_remote_host_without_flag() -> None:
    proc = _cli("--host", "0.0.0.0", "--port", "0")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "--allow-remote" in err and "listening" not in out
    proc = _cli("--port", "70000")
    assert proc.wait(30) == 2


def test_cli_prints_random_credentials(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_SIM_GATEWAY_")}
    proc = _cli("--port", "0", env=env)
    try:
        assert proc.stdout is not None
        creds = proc.stdout.readline()
        listening = proc.stdout.readline()
        assert creds.startswith("credentials: username=") and " password=" in creds
        user = creds.split("username=")[1].split()[0]
        password = creds.split("password=")[1].strip()
        assert len(password) >= 12
        url = listening.strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:")
        r = httpx.post(
            f"{url}/api/token/take",
            json={"username": user, "password": md5_hex(password)},
            timeout=5,
        )
        assert r.json()["maKetQua"] == "200"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    second = _cli("--port", "0", env=env)
    try:
        assert second.stdout is not None
        assert second.stdout.readline() != creds  # made up afresh each time
    finally:
        second.terminate()
        second.communicate(timeout=10)


# -- privacy --------------------------------------------------------------------------------


def test_log_has_no_personal_data(clean_gateway: GatewayProcess) -> None:
    gw = clean_gateway
    key = token(gw)
    for person in DATA.people:
        f = person.fields
        check(gw, person_body(person.cccd, f["hoTen"], f["ngaySinh"]), key=key)
        check(gw, person_body(f["maThe"] or person.cccd, "Sai Tên", "01/01/1900"), key=key)
        submit(gw, fhir_request(person.cccd, name=f["hoTen"], birth="1900-01-01"))
    check(gw, b"{broken " + "Trần Đức Minh 001088034517".encode(), key=key)
    httpx.get(f"{gw.url}/001088034517/Trần", timeout=5)
    log = gw.log()
    assert "check2024 200" in log and "fhir 200" in log  # the log is there and in use
    secrets_ = [gw.password, gw.password_md5, key["access_token"], key["id_token"], gw.username]
    for person in DATA.people:
        f = person.fields
        secrets_ += [person.cccd, f["hoTen"], f["diaChi"], f["maSoBHXH"]]
        secrets_ += [v for v in (f["maThe"], person.card_name) if v]
    for s in ("Sai Tên", "01/01/1900", "1900-01-01", STAFF["cccdCb"], STAFF["hoTenCb"]):
        secrets_.append(s)
    leaked = [s for s in secrets_ if s and s in log]
    assert not leaked, leaked


def test_validity_years_follow_the_calendar() -> None:
    from simulators.gateway.data import _this_year

    today = dt.date(2031, 5, 2)
    assert _this_year("31/12/{Y}", today) == "31/12/2031"
    assert _this_year("31/12/{Y-1}", today) == "31/12/2030"
    assert _this_year("01/01/{Y+1}", today) == "01/01/2032"
    assert _this_year("21/07/1988", today) == "21/07/1988"
