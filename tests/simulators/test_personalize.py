"""Sample profiles, the test PKI, the portrait and personalisation read back by the LDS parsers.

Everything is generated under a temporary simulator home made once per test
session (``sim_home``), so the PKI and RSA keys are made once and reused.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from kiosk.cccd.mrz import id_number_of
from kiosk.emrtd.lds import card_access, com, dg1, dg2, dg13, dg14, dg15, sod
from kiosk.emrtd.mrz import TD1, check_digit
from kiosk.emrtd.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    TerminalAuthenticationInfo,
)
from kiosk.transport import CardRemoved
from simulators.card import faults
from simulators.card import personalize as perso
from simulators.card.face import make_portrait
from simulators.card.pki import TestPKI, load_or_create_pki
from simulators.card.profile import (
    CardProfile,
    ProfileError,
    UnknownProfile,
    age_on,
    list_profiles,
    load_profile,
    profile_from_dict,
)


@pytest.fixture(scope="session")
def sim_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulator home shared by this session's tests (PKI and card keys made once)."""
    home = tmp_path_factory.getbasetemp() / "cccd-sim-home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture(scope="session")
def pki(sim_home: Path) -> TestPKI:
    return load_or_create_pki(sim_home)


# ---- profiles ---------------------------------------------------------------------------------


def test_sample_profiles_load_and_are_valid() -> None:
    names = list_profiles()
    assert names[0] == "default" and len(names) >= 6
    for name in names:
        p = load_profile(name)
        person = p.person
        assert p.name == name and p.can == p.id_number[-6:]
        for text in (person.full_name, person.place_of_residence, person.place_of_origin):
            assert unicodedata.is_normalized("NFC", text)
        # 4th digit: sex and century of birth; 5th-6th: year of birth.
        century_digit = int(p.id_number[3])
        assert (century_digit % 2 == 0) == (person.sex == "Nam")
        assert 1900 + 100 * (century_digit // 2) + int(p.id_number[4:6]) == (
            person.date_of_birth.year
        )
        assert person.date_of_issue > person.date_of_birth
        assert check_digit(p.id_number) in "0123456789"


def test_sample_cards_cover_the_cases() -> None:
    profiles = {n: load_profile(n) for n in list_profiles()}
    elder = profiles["elder"].person
    assert elder.date_of_expiry is None and age_on(elder.date_of_birth, elder.date_of_issue) >= 60
    teen = profiles["teen"].person
    assert age_on(teen.date_of_birth, teen.date_of_issue) == 14
    assert profiles["anh-tuyet"].full_name == "Nguyễn Thị Ánh Tuyết"
    assert any(p.person.spouse_name is None for p in profiles.values())
    assert any(p.person.old_id_number for p in profiles.values())
    modes = {p.chip.mode for p in profiles.values()}
    assert modes == {"pace+bac", "bac", "pace"}
    residences = " ".join(p.person.place_of_residence for p in profiles.values())
    for place in ("Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Thừa Thiên Huế", "Cần Thơ", "Nghệ An"):
        assert place in residences
    assert profiles["big-photo"].chip.photo_bytes > 32_768
    assert len({p.id_number for p in profiles.values()}) == len(profiles)


def _doc(**person_changes: object) -> dict[str, Any]:
    base = {
        "id_number": "001088034517",
        "full_name": "Trần Đức Minh",
        "date_of_birth": date(1988, 7, 21),
        "sex": "Nam",
        "nationality": "Việt Nam",
        "ethnicity": "Kinh",
        "religion": "Không",
        "place_of_origin": "Hà Nội",
        "place_of_residence": "Hà Nội",
        "identifying_marks": "Không",
        "date_of_issue": date(2021, 5, 14),
        "date_of_expiry": date(2028, 7, 21),
        "father_name": "Trần Văn Thắng",
        "mother_name": "Nguyễn Thị Hạnh",
    }
    base.update(person_changes)
    return {"person": base}


def test_profile_validation_catches_inconsistent_data() -> None:
    assert profile_from_dict("x", _doc()).person.mrz_surname == "TRAN"
    bad: list[dict[str, Any]] = [
        {"id_number": "00108803451"},  # 11 digits
        {"id_number": "003088034517"},  # no province 003
        {"id_number": "001188034517"},  # digit 4 says Nữ
        {"id_number": "001087034517"},  # born 1987?
        {"date_of_expiry": date(2030, 7, 21)},  # not a renewal age
        {"date_of_expiry": "none"},  # only from 58 on
        {"sex": "M"},
        {"old_id_number": "12345"},
        {"full_name": ""},
    ]
    for change in bad:
        with pytest.raises(ProfileError):
            profile_from_dict("x", _doc(**change))
    with pytest.raises(ProfileError):
        profile_from_dict("x", {**_doc(), "chip": {"mode": "nfc"}})
    with pytest.raises(ProfileError):
        profile_from_dict("x", {**_doc(), "chip": {"max_reed": 5}})


def test_unknown_profile_is_a_key_error() -> None:
    with pytest.raises(UnknownProfile):
        load_profile("nobody")
    with pytest.raises(KeyError):
        load_profile("../etc/passwd")


# ---- PKI --------------------------------------------------------------------------------------


def test_pki_is_made_once_and_reused(sim_home: Path, pki: TestPKI) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in pki.directory.iterdir()}
    again = load_or_create_pki(sim_home)
    assert again.csca_cert == pki.csca_cert and again.ds_cert == pki.ds_cert
    assert {p.name: p.stat().st_mtime_ns for p in pki.directory.iterdir()} == before
    for name in ("csca-key.pem", "ds-key.pem"):
        assert stat.S_IMODE((pki.directory / name).stat().st_mode) == 0o600


def test_pki_certificates_follow_9303_12(pki: TestPKI) -> None:
    csca, ds = pki.csca_cert, pki.ds_cert
    assert csca.subject == csca.issuer == ds.issuer
    assert csca.subject.rfc4514_string() == (
        "CN=CSCA Test Vietnam CCCD,O=cccd-kiosk simulator,C=VN"
    )
    csca.verify_directly_issued_by(csca)
    ds.verify_directly_issued_by(csca)
    bc = csca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ds.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    aki = ds.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = csca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert isinstance(pki.csca_key.curve, ec.BrainpoolP256R1)
    years = (csca.not_valid_after_utc - csca.not_valid_before_utc).days / 365
    assert years >= 15
    assert pki.csca_cert_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_two_processes_creating_the_pki_agree(tmp_path: Path) -> None:
    code = (
        "from simulators.card.pki import load_or_create_pki;"
        "p = load_or_create_pki();"
        "print(p.csca_cert.fingerprint(__import__('cryptography.hazmat.primitives.hashes',"
        "fromlist=['SHA256']).SHA256()).hex(), p.ds_cert.serial_number)"
    )
    env = {**os.environ, "CCCD_SIM_HOME": str(tmp_path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1
    on_disk = load_or_create_pki(tmp_path)
    assert outs[0].split()[0] == on_disk.csca_cert.fingerprint(hashes.SHA256()).hex()


# ---- portrait ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [8_000, 15_000, 40_000])
def test_portrait_is_a_jpeg_near_the_target_size(target: int) -> None:
    p = make_portrait("seed-1", target)
    assert p.jpeg[:4] == bytes.fromhex("FFD8FFE0")  # JFIF
    assert abs(len(p.jpeg) - target) <= 0.15 * target
    img = Image.open(io.BytesIO(p.jpeg))
    assert img.format == "JPEG" and img.size == (p.width, p.height)
    assert 0.6 < p.width / p.height < 0.9


def test_portrait_is_deterministic_per_seed() -> None:
    assert make_portrait("a").jpeg == make_portrait("a").jpeg
    assert make_portrait("a").jpeg != make_portrait("b").jpeg


# ---- personalisation --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cards(sim_home: Path, pki: TestPKI) -> dict[str, perso.CardFiles]:
    return {n: perso.personalize(load_profile(n), pki) for n in list_profiles()}


def _check_sod(files: perso.CardFiles, pki: TestPKI) -> sod.SOD:
    parsed = sod.parse(files.sod)
    assert parsed.hash_algorithm == "sha256"
    hashes_ = dict(parsed.dg_hashes)
    assert sorted(hashes_) == sorted(files.dgs)
    for n, data in files.dgs.items():
        assert hashes_[n] == hashlib.sha256(data).digest(), f"DG{n}"
    assert parsed.certificates == (pki.ds_cert_der,)
    si = parsed.signer_info
    assert si.message_digest == hashlib.sha256(parsed.econtent).digest()
    assert si.signed_attrs_der is not None
    key = pki.ds_cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(si.signature, si.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
    return parsed


def test_personalised_default_card_reads_back(
    cards: dict[str, perso.CardFiles], pki: TestPKI
) -> None:
    files = cards["default"]
    profile = load_profile("default")
    p = profile.person
    # EF.CardAccess as on real cards.
    infos = card_access.parse(files.card_access or b"").security_infos
    assert TerminalAuthenticationInfo("0.4.0.127.0.7.2.2.2", 1) in infos
    assert ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", 1) in infos
    assert PACEInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13) in infos
    # EF.COM lists DG1, DG2, DG3, DG13, DG14, DG15.
    assert com.parse(files.com).tags == (0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F)
    # DG1: the TD1 MRZ; BAC key input matches.
    mrz = dg1.parse(files.dgs[1]).mrz
    assert len(files.dgs[1]) == 95
    assert id_number_of(mrz) == p.id_number and mrz.sex == "M"
    assert files.mrz_info == mrz.mrz_information
    assert files.can == "034517"
    # DG2: the JPEG portrait.
    face = dg2.parse(files.dgs[2]).faces[0]
    assert face.image[:4] == bytes.fromhex("FFD8FFE0")
    assert abs(len(face.image) - 15_000) <= 2_250
    # DG13: Vietnamese text.
    d13 = dg13.parse(files.dgs[13])
    assert d13.full_name == "Trần Đức Minh" and d13.id_number == p.id_number
    assert d13.date_of_birth == "21/07/1988" and d13.date_of_expiry == "21/07/2028"
    assert d13.place_of_residence == p.place_of_residence
    assert (d13.father_name, d13.mother_name, d13.spouse_name) == (
        "Trần Văn Thắng",
        "Nguyễn Thị Hạnh",
        "Lê Thu Trang",
    )
    # DG14: CA info and key (the chip's CA private key matches it).
    infos14 = dg14.parse(files.dgs[14]).security_infos
    pk = next(i for i in infos14 if isinstance(i, ChipAuthenticationPublicKeyInfo))
    assert files.ca_private_key is not None
    assert pk.public_key_der == files.ca_private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert not any(isinstance(i, ActiveAuthenticationInfo) for i in infos14)  # RSA AA
    # DG15: the AA public key.
    assert files.aa_private_key is not None
    aa_spki = files.aa_private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert dg15.parse(files.dgs[15]).public_key_der == aa_spki
    _check_sod(files, pki)


def test_every_card_reads_back_with_its_text(
    cards: dict[str, perso.CardFiles], pki: TestPKI
) -> None:
    for name, files in cards.items():
        p = load_profile(name).person
        d13 = dg13.parse(files.dgs[13])
        assert d13.full_name == p.full_name
        assert d13.place_of_origin == p.place_of_origin
        assert d13.spouse_name == p.spouse_name
        assert d13.old_id_number == p.old_id_number
        mrz = dg1.parse(files.dgs[1]).mrz
        assert id_number_of(mrz) == p.id_number
        assert not mrz.check_digit_errors
        _check_sod(files, pki)
    elder = cards["elder"]
    assert dg13.parse(elder.dgs[13]).date_of_expiry == "Không thời hạn"
    assert dg1.parse(elder.dgs[1]).mrz.date_of_expiry == "991231"
    assert cards["bac-only"].card_access is None and cards["bac-only"].pace_info is None
    tuyet = dg13.parse(cards["anh-tuyet"].dgs[13])
    assert tuyet.full_name == "Nguyễn Thị Ánh Tuyết" and tuyet.spouse_name is None
    tuyet_mrz = dg1.parse(cards["anh-tuyet"].dgs[1]).mrz
    assert isinstance(tuyet_mrz, TD1)
    assert tuyet_mrz.lines[2] == "NGUYEN<<THI<ANH<TUYET<<<<<<<<<"
    infos14 = dg14.parse(cards["anh-tuyet"].dgs[14]).security_infos
    assert any(isinstance(i, ActiveAuthenticationInfo) for i in infos14)  # EC AA
    assert len(cards["big-photo"].dgs[2]) > 32_768


def test_ec_keys_are_deterministic_per_card(pki: TestPKI) -> None:
    profile = load_profile("anh-tuyet")
    a = perso.personalize(profile, pki, cache=False)
    b = perso.personalize(profile, pki, cache=False)
    assert a.dgs[14] == b.dgs[14] and a.dgs[15] == b.dgs[15] and a.dgs[2] == b.dgs[2]
    other = perso.personalize(load_profile("teen"), pki, cache=False)
    assert other.dgs[14] != a.dgs[14]


def test_cache_on_disk_is_private_and_reused(
    sim_home: Path, pki: TestPKI, cards: dict[str, perso.CardFiles]
) -> None:
    key = perso._cache_key(load_profile("default"), pki)
    cached = sim_home / "cards" / f"default-{key}.json"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert json.loads(cached.read_text())["can"] == "034517"
    perso._memo.clear()
    again = perso.personalize(load_profile("default"), pki)
    assert again.sod == cards["default"].sod and again.dgs == cards["default"].dgs
    assert again.aa_private_key is not None
    # A changed profile is a different cache entry, never a stale hit.
    changed = replace(load_profile("default"), description="changed")
    assert isinstance(changed, CardProfile)
    assert perso._cache_key(changed, pki) != perso._cache_key(load_profile("default"), pki)


def test_make_chip_applies_options(sim_home: Path) -> None:
    chip = perso.make_chip("default", home=sim_home, max_read=0xDF, plain_errors=True)
    assert chip.options.max_read == 0xDF and chip.options.plain_errors
    assert chip.files.can == "034517"
    bac_chip = perso.make_chip("default", home=sim_home, mode="bac")
    assert bac_chip.files.card_access is None
    with pytest.raises(ProfileError):
        perso.make_chip("default", home=sim_home, colour="red")


# ---- faulty cards -----------------------------------------------------------------------------


def test_tampered_dg_no_longer_matches_the_sod(
    cards: dict[str, perso.CardFiles], pki: TestPKI
) -> None:
    good = cards["default"]
    bad = faults.tamper_dg(good, 13)
    hashes_ = dict(sod.parse(bad.sod).dg_hashes)
    assert hashlib.sha256(bad.dgs[13]).digest() != hashes_[13]
    assert hashlib.sha256(bad.dgs[1]).digest() == hashes_[1]
    with pytest.raises(faults.FaultError):
        faults.tamper_dg(good, 11)


def test_foreign_signer_and_bad_signature(cards: dict[str, perso.CardFiles], pki: TestPKI) -> None:
    good = cards["default"]
    foreign = sod.parse(faults.foreign_signer(good).sod)
    assert foreign.dg_hashes == sod.parse(good.sod).dg_hashes
    cert = x509.load_der_x509_certificate(foreign.certificates[0])
    with pytest.raises(ValueError):
        cert.verify_directly_issued_by(pki.csca_cert)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    si = foreign.signer_info
    assert si.signed_attrs_der is not None
    key.verify(
        si.signature, si.signed_attrs_der, ec.ECDSA(hashes.SHA256())
    )  # signed, by a stranger
    broken = sod.parse(faults.bad_signature(good).sod).signer_info
    ds_key = pki.ds_cert.public_key()
    assert isinstance(ds_key, ec.EllipticCurvePublicKey) and broken.signed_attrs_der is not None
    with pytest.raises(InvalidSignature):
        ds_key.verify(broken.signature, broken.signed_attrs_der, ec.ECDSA(hashes.SHA256()))


def test_make_faulty_chip(sim_home: Path) -> None:
    chip = faults.make_faulty_chip("teen", "tampered-dg1", home=sim_home)
    assert chip.files.dgs[1] != perso.make_chip("teen", home=sim_home).files.dgs[1]
    torn = faults.make_faulty_chip("teen", "tear-1", home=sim_home)
    torn.process(bytes.fromhex("00A4020C02011C"))
    with pytest.raises(CardRemoved):
        torn.process(bytes.fromhex("00B09C0000"))
    with pytest.raises(faults.FaultError):
        faults.make_faulty_chip("teen", "melted", home=sim_home)
