"""Active Authentication against the software chip: RSA (ISO/IEC 9796-2) and ECDSA, clones,
chips that refuse, short-APDU readers, offline re-verification."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from drivers.simulated import SimulatedTransport
from kiosk.emrtd import iso9796
from kiosk.emrtd.aa import AAResult, active_authentication, verify_active_authentication
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.lds import dg15 as dg15_mod
from kiosk.emrtd.pace import PacePassword, pace
from kiosk.emrtd.security_infos import ID_AA, ActiveAuthenticationInfo
from simulators.card.chip import CardFiles, Chip
from simulators.card.personalize import make_chip
from simulators.card.profile import ChipOptions

h = bytes.fromhex
AID = h("A0000002471001")
CHALLENGE = h("F173589974BF40C6")


def _open(c: Chip, *, extended: bool | None = None) -> CardChannel:
    """PACE with the card's CAN, then SELECT the eMRTD application."""
    ch = CardChannel(SimulatedTransport(c, extended_length=extended))
    assert c.files.pace_info is not None
    pace(ch, PacePassword.from_can(c.files.can), c.files.pace_info)
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, AID)).sw == 0x9000
    return ch


def _dgs(files: CardFiles) -> tuple[dg15_mod.DG15, dg14_mod.DG14]:
    return dg15_mod.parse(files.dgs[15]), dg14_mod.parse(files.dgs[14])


def _spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _with_aa(files: CardFiles, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> CardFiles:
    """The card with ``key`` as its AA key, in the chip and in DG15 alike (a genuine card)."""
    dgs = dict(files.dgs)
    dgs[15] = dg15_mod.encode(dg15_mod.DG15(_spki(key)))
    return replace(files, dgs=dgs, aa_private_key=key)


@pytest.fixture(scope="module")
def default_files() -> CardFiles:
    return make_chip("default").files


@pytest.fixture(scope="module")
def ec_files() -> CardFiles:
    return make_chip("anh-tuyet").files


def test_rsa_2048_passes_with_extended_length(default_files: CardFiles) -> None:
    c = Chip(default_files, ChipOptions(extended_length=True))
    dg15, dg14 = _dgs(default_files)
    res = active_authentication(_open(c), dg15, dg14, challenge=CHALLENGE)
    assert res.result == "passed", res.reason
    assert res.algorithm == "rsa-iso9796-2-sha1" and res.challenge == CHALLENGE
    assert len(res.response) == 256 and res.reason is None
    # The evidence re-verifies offline, and only with its own challenge.
    assert verify_active_authentication(dg15, dg14, CHALLENGE, res.response).passed
    again = verify_active_authentication(dg15, dg14, h("0000000000000000"), res.response)
    assert again.result == "failed"


def test_rsa_2048_on_a_short_apdu_reader_arrives_via_get_response(
    default_files: CardFiles,
) -> None:
    """The protected RSA-2048 reply exceeds 256 bytes: the chip sends 61xx, the reader
    collects the rest with GET RESPONSE (as PC/SC readers do), and AA verifies."""
    c = Chip(default_files, ChipOptions(extended_length=True))
    dg15, dg14 = _dgs(default_files)
    channel = _open(c, extended=False)
    before = c.apdu_count
    res = active_authentication(channel, dg15, dg14)
    assert res.result == "passed", res.reason
    assert len(res.response) == 256
    assert c.apdu_count - before == 2  # INTERNAL AUTHENTICATE + one GET RESPONSE


def test_rsa_1024_fits_a_short_apdu(default_files: CardFiles) -> None:
    files = _with_aa(default_files, rsa.generate_private_key(3, 1024))
    c = Chip(files, ChipOptions(extended_length=False))
    dg15, dg14 = _dgs(files)
    res = active_authentication(_open(c), dg15, dg14)
    assert res.passed and len(res.challenge) == 8 and len(res.response) == 128


@pytest.mark.parametrize("hash_name", ["sha224", "sha256", "sha384", "sha512"])
def test_rsa_explicit_trailers(default_files: CardFiles, hash_name: str) -> None:
    files = replace(
        _with_aa(default_files, rsa.generate_private_key(65537, 1024)), aa_rsa_hash=hash_name
    )
    dg15, dg14 = _dgs(files)
    res = active_authentication(_open(Chip(files)), dg15, dg14)
    assert res.passed and res.algorithm == f"rsa-iso9796-2-{hash_name}"


def test_ecdsa_p256_passes(ec_files: CardFiles) -> None:
    dg15, dg14 = _dgs(ec_files)
    assert dg14.aa_info is not None
    res = active_authentication(_open(Chip(ec_files)), dg15, dg14)
    assert res.passed and res.algorithm == "ecdsa-plain-sha256" and len(res.response) == 64
    # Without DG14 the reader tries the SHA-2 family and still finds SHA-256.
    assert verify_active_authentication(dg15, None, res.challenge, res.response).passed


@pytest.mark.parametrize(("arc", "name"), [(2, "sha224"), (4, "sha384"), (5, "sha512")])
def test_ecdsa_hash_follows_dg14(ec_files: CardFiles, arc: int, name: str) -> None:
    infos = tuple(
        ActiveAuthenticationInfo(ID_AA, 1, f"0.4.0.127.0.7.1.1.4.1.{arc}")
        if isinstance(i, ActiveAuthenticationInfo)
        else i
        for i in dg14_mod.parse(ec_files.dgs[14]).security_infos
    )
    dgs = dict(ec_files.dgs)
    dgs[14] = dg14_mod.encode(dg14_mod.DG14(infos))
    files = replace(ec_files, dgs=dgs)
    dg15, dg14 = _dgs(files)
    res = active_authentication(_open(Chip(files)), dg15, dg14)
    assert res.passed and res.algorithm == f"ecdsa-plain-{name}"


@pytest.mark.parametrize("card", ["default", "ec"])
def test_clone_fails(default_files: CardFiles, ec_files: CardFiles, card: str) -> None:
    """A clone: DG15 (and the SOD) copied from the genuine card, but another key in the chip."""
    if card == "default":
        files = replace(default_files, aa_private_key=rsa.generate_private_key(65537, 2048))
        opts = ChipOptions(extended_length=True)
    else:
        files = replace(ec_files, aa_private_key=ec.generate_private_key(ec.SECP256R1()))
        opts = ChipOptions()
    dg15, dg14 = _dgs(files)
    res = active_authentication(_open(Chip(files, opts)), dg15, dg14)
    assert res.result == "failed"
    assert res.reason is not None and "cloned chip" in res.reason
    assert res.response  # the evidence is kept


def test_no_dg15_is_not_supported_but_refusing_with_dg15_fails(ec_files: CardFiles) -> None:
    ch = _open(Chip(ec_files))
    res = active_authentication(ch, None, None)
    assert res.result == "not_supported" and res.response == b""
    # DG15 (signed) says the chip has an AA key, yet it answers 6D00: what a clone does.
    files = replace(ec_files, aa_private_key=None)
    dg15, dg14 = _dgs(files)
    res = active_authentication(_open(Chip(files)), dg15, dg14)
    assert res.result == "failed" and "6D00" in (res.reason or "")


def test_unexpected_status_word_fails(ec_files: CardFiles) -> None:
    """DG15 says there is a key but the chip refuses with 6982: not genuine behaviour."""
    dg15, dg14 = _dgs(ec_files)
    c = Chip(ec_files)
    ch = CardChannel(SimulatedTransport(c))  # no access control: the chip answers 6982
    res = active_authentication(ch, dg15, dg14)
    assert res.result == "failed" and "6982" in (res.reason or "")


def test_offline_verification_rejects_junk(ec_files: CardFiles, default_files: CardFiles) -> None:
    for files in (ec_files, default_files):
        dg15, dg14 = _dgs(files)
        for junk in (b"", b"\x00" * 64, b"\xff" * 256, b"\x01" * 300):
            res = verify_active_authentication(dg15, dg14, CHALLENGE, junk)
            assert res.result == "failed" and res.reason


def test_wrong_length_challenge_is_a_programming_error(ec_files: CardFiles) -> None:
    dg15, dg14 = _dgs(ec_files)
    with pytest.raises(ValueError):
        active_authentication(_open(Chip(ec_files)), dg15, dg14, challenge=b"1234567")


def test_challenges_are_fresh(ec_files: CardFiles) -> None:
    dg15, dg14 = _dgs(ec_files)
    ch = _open(Chip(ec_files))
    seen = {active_authentication(ch, dg15, dg14).challenge for _ in range(5)}
    assert len(seen) == 5


def test_result_json() -> None:
    res = AAResult("passed", "ecdsa-plain-sha256", h("0102"), h("A0B0"))
    assert res.to_json() == {
        "result": "passed",
        "algorithm": "ecdsa-plain-sha256",
        "challenge": "0102",
        "response": "A0B0",
        "reason": None,
    }


def test_chip_signature_matches_the_icao_layout(default_files: CardFiles) -> None:
    """The chip's RSA reply opens to 6A || M1 || SHA-1(M1 || RND.IFD) || BC (9303-11 §6.1.2.2)."""
    c = Chip(default_files, ChipOptions(extended_length=True))
    ch = _open(c)
    r = ch.send(CommandAPDU(0x00, 0x88, 0, 0, CHALLENGE, ne=65536), True)
    assert r.sw == 0x9000
    key = default_files.aa_private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    pub = key.public_key().public_numbers()
    f = pow(int.from_bytes(r.data), pub.e, pub.n).to_bytes(256)
    assert f[0] == 0x6A and f[-1] == 0xBC
    assert len(f[1:-21]) == iso9796.capacity(pub.n) == 234
