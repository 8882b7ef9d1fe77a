"""The simulator's bad cards: each fault produces what it claims, checked independently.

Nothing here trusts the project's own verification code: EF.SOD is taken
apart with asn1crypto directly, signatures and certificate chains are checked
with ``cryptography``, and Active / Chip Authentication are exercised with
hand-made APDUs over a real secure-messaging session. Every check is paired
with the honest card, so a fault that silently did nothing would fail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from pathlib import Path

import pytest
from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from drivers.simulated import SimulatedTransport
from kiosk.cccd import access
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.crypto import KDF_ENC, KDF_MAC, Cipherkind, kdf
from kiosk.emrtd.errors import SecureMessagingError
from kiosk.emrtd.lds import dg14, dg15
from kiosk.emrtd.security_infos import ChipAuthenticationPublicKeyInfo
from kiosk.emrtd.session import ReaderSession
from kiosk.emrtd.sm import SecureMessaging
from kiosk.transport import CardRemoved
from simulators.card import faults
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip
from simulators.card.pki import (
    CSCA_SUBJECT,
    FaultPKI,
    Signer,
    TestPKI,
    load_or_create_fault_pki,
    load_or_create_pki,
    make_crl,
)
from simulators.card.profile import load_profile

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return load_or_create_pki()


@pytest.fixture(scope="module")
def fault_pki() -> FaultPKI:
    return load_or_create_fault_pki()


# ---- an independent look at EF.SOD ------------------------------------------------------------


class Sod:
    """EF.SOD taken apart with asn1crypto alone (not kiosk.emrtd.lds.sod)."""

    def __init__(self, raw: bytes) -> None:
        outer = core.load(raw)
        assert outer.tag == 23 and outer.class_ == 1  # [APPLICATION 23] = 0x77
        info = cms.ContentInfo.load(outer.contents)
        signed = info["content"]
        self.econtent: bytes = signed["encap_content_info"]["content"].native
        lso = core.load(self.econtent).native  # generic: {"0": version, "1": alg, "2": hashes}
        self.hashes = {int(e["0"]): bytes(e["1"]) for e in lso["2"].values()}
        cert = signed["certificates"][0].chosen
        self.dsc = x509.load_der_x509_certificate(cert.dump())
        si = signed["signer_infos"][0]
        self.signature: bytes = si["signature"].native
        signed_attrs = si["signed_attrs"]
        der = signed_attrs.dump()
        self.signed_attrs_der = b"\x31" + der[1:]  # [0] IMPLICIT → SET OF, as signed
        attrs = {a["type"].native: a["values"][0].native for a in signed_attrs}
        self.message_digest: bytes = attrs["message_digest"]
        self.signing_time: dt.datetime = attrs["signing_time"]

    def signature_valid(self, key: ec.EllipticCurvePublicKey | None = None) -> bool:
        pub = key or self.dsc.public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        try:
            pub.verify(self.signature, self.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return hashlib.sha256(self.econtent).digest() == self.message_digest


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, InvalidSignature):
        return False
    return True


def spki(key: object) -> bytes:
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---- the list ---------------------------------------------------------------------------------


def test_every_fault_has_a_one_line_description() -> None:
    for table in (faults.FAULTS, faults.FAULT_FAMILIES):
        for name, text in table.items():
            assert text and "\n" not in text and len(text) <= 100, name
    for required in (
        "tampered-dg1",
        "forged-signature",
        "untrusted-csca",
        "impostor-csca",
        "expired-dsc",
        "expired-dsc-signed-late",
        "revoked-dsc",
        "clone",
        "ca-mismatch",
        "bad-sm-mac",
    ):
        assert required in faults.FAULTS
    assert faults.describe("tampered-dg13") == faults.FAULTS["tampered-dg13"]
    assert "7" in faults.describe("tear-7") and "4" in faults.describe("bad-sm-mac-4")
    assert faults.describe("bad-signature") == faults.FAULTS["forged-signature"]
    with pytest.raises(faults.FaultError):
        faults.describe("melted")


@pytest.mark.parametrize("fault", [*faults.FAULTS, "tear-5", "bad-sm-mac-2", "foreign-signer"])
def test_every_fault_makes_a_chip(fault: str) -> None:
    chip = faults.make_faulty_chip("default", fault)
    assert isinstance(chip, Chip)
    honest = make_chip("default")
    changed = (
        chip.files != honest.files
        or isinstance(chip, faults.BadMacChip)
        or chip._remove_after is not None
    )
    assert changed, f"{fault} changed nothing"


def test_unknown_and_misapplied_faults_are_errors() -> None:
    files = make_chip("default").files
    with pytest.raises(faults.FaultError):
        faults.make_faulty_chip("default", "melted")
    with pytest.raises(faults.FaultError):
        faults.apply_fault(files, "bad-sm-mac")
    with pytest.raises(faults.FaultError):
        faults.apply_fault(files, "tampered-dg11")


# ---- content faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("dg", [1, 2, 13, 14, 15])
def test_tampered_dg_hash_differs_from_the_sods(dg: int) -> None:
    honest = make_chip("teen").files
    bad = faults.make_faulty_chip("teen", f"tampered-dg{dg}").files
    assert bad.sod == honest.sod
    sod = Sod(bad.sod)
    for n, data in bad.dgs.items():
        matches = hashlib.sha256(data).digest() == sod.hashes[n]
        assert matches == (n != dg), f"DG{n}"
    assert sum(a != b for a, b in zip(bad.dgs[dg], honest.dgs[dg], strict=True)) == 1


def test_forged_signature_fails_under_the_dsc(pki: TestPKI) -> None:
    honest = Sod(make_chip("default").files.sod)
    forged = Sod(faults.make_faulty_chip("default", "forged-signature").files.sod)
    assert honest.signature_valid() and not forged.signature_valid()
    assert forged.dsc == honest.dsc == pki.ds_cert
    assert forged.econtent == honest.econtent  # only the signature changed
    assert sum(a != b for a, b in zip(forged.signature, honest.signature, strict=True)) == 1


def test_untrusted_csca_signs_intact_data(pki: TestPKI, fault_pki: FaultPKI) -> None:
    honest = Sod(make_chip("default").files.sod)
    sod = Sod(faults.make_faulty_chip("default", "untrusted-csca").files.sod)
    assert sod.signature_valid() and sod.econtent == honest.econtent
    assert sod.dsc == fault_pki.untrusted_ds.cert
    assert sod.dsc.issuer == fault_pki.untrusted_csca.subject != pki.csca_cert.subject
    assert issued_by(sod.dsc, fault_pki.untrusted_csca)
    assert not issued_by(sod.dsc, pki.csca_cert)
    assert issued_by(fault_pki.untrusted_csca, fault_pki.untrusted_csca)  # a real CSCA


def test_impostor_csca_has_the_trusted_name_and_another_key(
    pki: TestPKI, fault_pki: FaultPKI
) -> None:
    impostor, genuine = fault_pki.impostor_csca, pki.csca_cert
    assert impostor.subject == genuine.subject == CSCA_SUBJECT
    assert spki(impostor.public_key()) != spki(genuine.public_key())
    ski = x509.SubjectKeyIdentifier
    assert (
        impostor.extensions.get_extension_for_class(ski).value
        == genuine.extensions.get_extension_for_class(ski).value
    )
    sod = Sod(faults.make_faulty_chip("default", "impostor-csca").files.sod)
    assert sod.signature_valid()
    assert sod.dsc.issuer == genuine.subject
    aki = sod.dsc.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == genuine.extensions.get_extension_for_class(ski).value.digest
    assert issued_by(sod.dsc, impostor) and not issued_by(sod.dsc, genuine)


def test_expired_dsc_signed_while_valid_and_signed_late(pki: TestPKI, fault_pki: FaultPKI) -> None:
    ds = fault_pki.expired_ds.cert
    assert ds.not_valid_after_utc < NOW
    assert issued_by(ds, pki.csca_cert) and ds.issuer == pki.csca_cert.subject
    honest = Sod(make_chip("default").files.sod)
    ok = Sod(faults.make_faulty_chip("default", "expired-dsc").files.sod)
    late = Sod(faults.make_faulty_chip("default", "expired-dsc-signed-late").files.sod)
    for sod in (ok, late):
        assert sod.dsc == ds and sod.signature_valid() and sod.econtent == honest.econtent
    assert ds.not_valid_before_utc <= ok.signing_time < ds.not_valid_after_utc
    assert ok.signing_time == honest.signing_time  # the card's own date (2021)
    assert ds.not_valid_after_utc < late.signing_time <= NOW


def test_expired_dsc_for_a_card_issued_after_the_dsc_expired(
    pki: TestPKI, fault_pki: FaultPKI
) -> None:
    # When the card's own signing time is past the DS's end, the SOD is dated just before it.
    end = fault_pki.expired_ds.cert.not_valid_after_utc
    files = faults.resign_sod(
        make_chip("teen").files,
        Signer(pki.ds_cert, pki.ds_key),
        signing_time=end + dt.timedelta(days=3),
    )
    assert Sod(files.sod).signing_time > end
    sod = Sod(faults.expired_dsc(files).sod)
    assert sod.signing_time < end and sod.dsc == fault_pki.expired_ds.cert


def test_revoked_dsc_is_listed_in_the_trusted_csca_crl(pki: TestPKI, fault_pki: FaultPKI) -> None:
    sod = Sod(faults.make_faulty_chip("default", "revoked-dsc").files.sod)
    assert sod.signature_valid() and issued_by(sod.dsc, pki.csca_cert)
    crl = x509.load_der_x509_crl(pki.crl_path.read_bytes())  # where the trust store looks
    assert pki.crl_path in pki.trust_paths and pki.crl_path.parent == pki.csca_cert_path.parent
    csca_key = pki.csca_cert.public_key()
    assert isinstance(csca_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(csca_key) and crl.issuer == pki.csca_cert.subject
    entry = crl.get_revoked_certificate_by_serial_number(sod.dsc.serial_number)
    assert entry is not None and entry.revocation_date_utc <= NOW
    assert crl.get_revoked_certificate_by_serial_number(pki.ds_cert.serial_number) is None
    assert crl.next_update_utc is not None and crl.next_update_utc > NOW
    assert crl.last_update_utc <= NOW
    other = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    assert not crl.is_signature_valid(other)


def test_crl_helpers(pki: TestPKI, fault_pki: FaultPKI) -> None:
    crl = pki.issue_crl([fault_pki.expired_ds.cert, 12345], crl_number=7)
    serials = {r.serial_number for r in crl}
    assert serials == {fault_pki.expired_ds.cert.serial_number, 12345}
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    empty = make_crl(pki.csca_cert, pki.csca_key, now=NOW, next_update_days=30)
    assert len(empty) == 0 and empty.next_update_utc is not None
    assert (empty.next_update_utc - NOW).days in (29, 30)


def _aa_verifies(chip: Chip, card: str, dg15_der: bytes) -> bool:
    """Run INTERNAL AUTHENTICATE through a real SM session; verify with DG15's key."""
    session = ReaderSession(SimulatedTransport(chip))
    session.read([access.key_from_id(load_profile(card).id_number)])
    nonce = bytes(range(1, 9))
    resp = session.channel.send(CommandAPDU(0, 0x88, 0, 0, nonce, ne=65536))
    assert resp.sw == 0x9000, hex(resp.sw)
    key = serialization.load_der_public_key(dg15.parse(dg15_der).public_key_der)
    if isinstance(key, rsa.RSAPublicKey):
        # ISO/IEC 9796-2 scheme 1: F = 6A || M1 || SHA-1(M1 || nonce) || BC.
        n = key.public_numbers()
        f = pow(int.from_bytes(resp.data, "big"), n.e, n.n).to_bytes(len(resp.data), "big")
        if f[0] != 0x6A or f[-1] != 0xBC:
            return False
        m1, digest = f[1:-21], f[-21:-1]
        return hashlib.sha1(m1 + nonce).digest() == digest
    assert isinstance(key, ec.EllipticCurvePublicKey)
    half = len(resp.data) // 2
    r, s = int.from_bytes(resp.data[:half], "big"), int.from_bytes(resp.data[half:], "big")
    try:
        key.verify(encode_dss_signature(r, s), nonce, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize("card", ["default", "anh-tuyet"])  # RSA-2048 and EC P-256 AA
def test_clone_internal_authenticate_fails_with_the_dg15_key(card: str) -> None:
    honest = make_chip(card, extended_length=True)
    clone = faults.make_faulty_chip(card, "clone", extended_length=True)
    assert clone.files.dgs == honest.files.dgs and clone.files.sod == honest.files.sod
    assert _aa_verifies(honest, card, honest.files.dgs[15])
    assert not _aa_verifies(clone, card, clone.files.dgs[15])
    assert clone.files.aa_private_key is not None and honest.files.aa_private_key is not None
    assert spki(clone.files.aa_private_key.public_key()) != spki(
        honest.files.aa_private_key.public_key()
    )


def _ca_then_read(chip: Chip) -> bytes:
    """Chip Authentication v1 (MSE:Set KAT) against DG14's key, then READ BINARY of DG1."""
    session = ReaderSession(SimulatedTransport(chip))
    session.read([access.CAN(chip.files.can)])
    infos = dg14.parse(chip.files.dgs[14]).security_infos
    pk_info = next(i for i in infos if isinstance(i, ChipAuthenticationPublicKeyInfo))
    chip_key = serialization.load_der_public_key(pk_info.public_key_der)
    assert isinstance(chip_key, ec.EllipticCurvePublicKey)
    eph = ec.generate_private_key(chip_key.curve)
    point = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    resp = session.channel.send(CommandAPDU(0, 0x22, 0x41, 0xA6, b"\x91" + bytes([65]) + point))
    assert resp.sw == 0x9000
    shared = eph.exchange(ec.ECDH(), chip_key)
    aes = Cipherkind.AES
    session.channel.sm = SecureMessaging(
        aes, kdf(shared, KDF_ENC, aes, 128), kdf(shared, KDF_MAC, aes, 128), 0
    )
    return session.channel.send(CommandAPDU(0, 0xB0, 0x81, 0, ne=4)).data


def test_ca_mismatch_chip_cannot_talk_under_dg14_keys() -> None:
    honest = make_chip("default")
    bad = faults.make_faulty_chip("default", "ca-mismatch")
    assert bad.files.dgs == honest.files.dgs
    assert _ca_then_read(honest) == honest.files.dgs[1][:4]
    with pytest.raises(SecureMessagingError):
        _ca_then_read(bad)
    assert bad.files.ca_private_key is not None and honest.files.ca_private_key is not None
    assert bad.files.ca_private_key.curve.name == honest.files.ca_private_key.curve.name
    assert spki(bad.files.ca_private_key.public_key()) != spki(
        honest.files.ca_private_key.public_key()
    )


# ---- behaviour faults -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 6])
def test_bad_sm_mac_spoils_exactly_the_nth_protected_reply(n: int) -> None:
    chip = faults.make_faulty_chip("default", f"bad-sm-mac-{n}")
    assert isinstance(chip, faults.BadMacChip)
    with pytest.raises(SecureMessagingError):
        ReaderSession(SimulatedTransport(chip)).read([access.key_from_id("001088034517")])
    assert chip.sm_replies == n


def test_bad_sm_mac_beyond_the_read_leaves_it_intact() -> None:
    chip = faults.make_faulty_chip("default", "bad-sm-mac-100000")
    assert isinstance(chip, faults.BadMacChip)
    result = ReaderSession(SimulatedTransport(chip)).read([access.key_from_id("001088034517")])
    assert result.dg1 is not None and 10 < chip.sm_replies < 100000


def test_tear_removes_the_card_mid_read() -> None:
    chip = faults.make_faulty_chip("teen", "tear-12")
    with pytest.raises(CardRemoved):
        ReaderSession(SimulatedTransport(chip)).read([access.key_from_id("079212004562")])
    assert chip.apdu_count == 12


# ---- the fault PKI on disk --------------------------------------------------------------------


def test_fault_pki_is_cached_private_and_follows_the_csca(tmp_path: Path) -> None:
    first = load_or_create_fault_pki(tmp_path)
    again = load_or_create_fault_pki(tmp_path)
    assert again.impostor_csca == first.impostor_csca and again.crl == first.crl
    for key_file in first.directory.glob("*key*"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file.name
    assert stat.S_IMODE(first.directory.stat().st_mode) == 0o700
    # A new test CSCA (another home) means another fault PKI, tied to it.
    other_home = tmp_path / "other"
    other = load_or_create_fault_pki(other_home)
    assert other.expired_ds.cert != first.expired_ds.cert
    assert issued_by(other.revoked_ds.cert, load_or_create_pki(other_home).csca_cert)
    # A damaged set is made again rather than used.
    (first.directory / "revoked-ds.pem").write_bytes(b"junk")
    remade = load_or_create_fault_pki(tmp_path)
    assert remade.revoked_ds.cert != first.revoked_ds.cert
    crl = x509.load_der_x509_crl(load_or_create_pki(tmp_path).crl_path.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(remade.revoked_ds.cert.serial_number)
