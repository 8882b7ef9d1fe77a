"""Chip Authentication against the software chip: ECDH and DH, AES (Set AT + GA) and 3DES
(Set KAT), key ids, key mismatch (a clone's chip), and the keys checked independently."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from drivers.simulated import SimulatedTransport
from kiosk.emrtd import ca as ca_mod
from kiosk.emrtd import ec as kec
from kiosk.emrtd.aa import active_authentication
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.bac import bac
from kiosk.emrtd.ca import CAResult, chip_authentication
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import KDF_ENC, KDF_MAC, Cipherkind, kdf
from kiosk.emrtd.lds import card_access as card_access_mod
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.lds import dg15 as dg15_mod
from kiosk.emrtd.pace import PacePassword, pace
from kiosk.emrtd.security_infos import (
    ID_CA_DH,
    ID_CA_ECDH,
    ID_PK_DH,
    ID_PK_ECDH,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfo,
)
from simulators.card.chip import CardFiles, Chip
from simulators.card.personalize import make_chip
from simulators.card.profile import ChipOptions

pytestmark = pytest.mark.filterwarnings("ignore:Diffie-Hellman over finite fields")

h = bytes.fromhex
AID = h("A0000002471001")
CA_AES128 = ID_CA_ECDH + ".2"
CA_3DES = ID_CA_ECDH + ".1"


def _spki(key: ec.EllipticCurvePrivateKey | dh.DHPrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _open(c: Chip, *, use_bac: bool = False) -> CardChannel:
    ch = CardChannel(SimulatedTransport(c), keep_log=True)
    if use_bac:
        assert ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, AID)).sw == 0x9000
        bac(ch, c.files.mrz_info)
        return ch
    assert c.files.pace_info is not None
    pace(ch, PacePassword.from_can(c.files.can), c.files.pace_info)
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, AID)).sw == 0x9000
    return ch


def _with_dg14(files: CardFiles, infos: list[SecurityInfo], **changes: object) -> CardFiles:
    dgs = dict(files.dgs)
    dgs[14] = dg14_mod.encode(dg14_mod.DG14(tuple(infos)))
    return replace(files, dgs=dgs, **changes)  # type: ignore[arg-type]


def _dg14(files: CardFiles) -> dg14_mod.DG14:
    return dg14_mod.parse(files.dgs[14])


@pytest.fixture(scope="module")
def files() -> CardFiles:
    return make_chip("default").files


def test_default_card_passes_and_rekeys(files: CardFiles) -> None:
    c = Chip(files)
    ch = _open(c)
    old = ch.sm
    res = chip_authentication(ch, _dg14(files))
    assert res == CAResult("passed", CA_AES128, None, None)
    assert c.chip_authenticated and ch.sm is not old and ch.sm is not None
    assert ch.sm.ssc == 2  # the proof: one command, one reply under the new keys
    # Everything afterwards runs under the CA session.
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16))
    assert (r.sw, r.data) == (0x9000, files.dgs[1][:16])
    # MSE:Set AT then GENERAL AUTHENTICATE, not KAT, for AES.
    plain = [rec.plain_command for rec in ch.log if rec.plain_command]
    assert any(p[:4] == h("002241A4") for p in plain)
    assert not any(p[:4] == h("002241A6") for p in plain)


def test_session_keys_match_an_independent_computation(files: CardFiles) -> None:
    """Pin the ephemeral scalar and compute ECDH + KDF here with cryptography only."""
    scalar = bytes(range(40))
    ch = _open(Chip(files))
    res = chip_authentication(ch, _dg14(files), rng=lambda n: scalar[:n])
    assert res.passed
    ca_key = files.ca_private_key
    assert ca_key is not None
    curve = kec.BRAINPOOL_P256R1
    d = int.from_bytes(scalar[:40]) % (curve.n - 1) + 1
    eph = ec.derive_private_key(d, ec.BrainpoolP256R1())
    shared = eph.exchange(ec.ECDH(), ca_key.public_key())
    assert ch.sm is not None
    assert ch.sm.ks_enc == kdf(shared, KDF_ENC, Cipherkind.AES)
    assert ch.sm.ks_mac == kdf(shared, KDF_MAC, Cipherkind.AES)
    point = eph.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    ga = [r.plain_command for r in ch.log if r.plain_command and r.plain_command[1] == 0x86]
    assert ga and point in ga[-1]


def test_under_bac_and_with_plain_errors() -> None:
    c = make_chip("bac-only")
    res = chip_authentication(_open(c, use_bac=True), _dg14(c.files))
    assert res.passed
    fussy = make_chip("fussy")
    assert chip_authentication(_open(fussy), _dg14(fussy.files)).passed


@pytest.mark.parametrize("method", ["auto", "kat", "at"])
def test_3des_chip_authentication(files: CardFiles, method: str) -> None:
    assert files.ca_private_key is not None
    infos: list[SecurityInfo] = [
        ChipAuthenticationInfo(CA_3DES, 1),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key)),
    ]
    f = _with_dg14(files, infos, ca_protocol=CA_3DES)
    ch = _open(Chip(f))
    res = chip_authentication(ch, _dg14(f), method=method)  # type: ignore[arg-type]
    assert res.passed and res.protocol == CA_3DES
    assert ch.sm is not None and ch.sm.kind is Cipherkind.DES3
    plain = [r.plain_command for r in ch.log if r.plain_command]
    kat = any(p[:4] == h("002241A6") for p in plain)
    assert kat == (method != "at")


def test_no_info_means_3des(files: CardFiles) -> None:
    """ICAO 9303-11 §9.2.6: a DG14 with a key but no ChipAuthenticationInfo implies 3DES."""
    assert files.ca_private_key is not None
    infos: list[SecurityInfo] = [
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key))
    ]
    f = _with_dg14(files, infos, ca_protocol=CA_3DES)
    res = chip_authentication(_open(Chip(f)), _dg14(f))
    assert res.passed and res.protocol == CA_3DES


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.BrainpoolP384R1(), ec.SECP521R1()])
@pytest.mark.parametrize("suffix", [2, 3, 4])
def test_curves_and_aes_sizes(files: CardFiles, curve: ec.EllipticCurve, suffix: int) -> None:
    key = ec.generate_private_key(curve)
    proto = f"{ID_CA_ECDH}.{suffix}"
    infos: list[SecurityInfo] = [
        ChipAuthenticationInfo(proto, 1),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(key)),
    ]
    f = _with_dg14(files, infos, ca_private_key=key, ca_protocol=proto)
    ch = _open(Chip(f))
    assert chip_authentication(ch, _dg14(f)).passed
    assert ch.sm is not None and len(ch.sm.ks_enc) == {2: 16, 3: 24, 4: 32}[suffix]


@pytest.fixture(scope="module")
def dh_key() -> dh.DHPrivateKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dh.generate_parameters(2, 512).generate_private_key()


@pytest.mark.parametrize("suffix", [1, 2])
def test_dh_chip_authentication(files: CardFiles, dh_key: dh.DHPrivateKey, suffix: int) -> None:
    proto = f"{ID_CA_DH}.{suffix}"
    infos: list[SecurityInfo] = [
        ChipAuthenticationInfo(proto, 1),
        ChipAuthenticationPublicKeyInfo(ID_PK_DH, _spki(dh_key)),
    ]
    f = _with_dg14(files, infos, ca_dh_private_key=dh_key, ca_protocol=proto)
    ch = _open(Chip(f))
    res = chip_authentication(ch, _dg14(f), rng=lambda n: b"\x5a" * n)
    assert res.passed and res.protocol == proto
    # A DH clone: a different key in the chip.
    other = dh_key.parameters().generate_private_key()
    bad = replace(f, ca_dh_private_key=other)
    assert chip_authentication(_open(Chip(bad)), _dg14(bad)).result == "failed"


def test_key_mismatch_fails(files: CardFiles) -> None:
    """The CA key-mismatch fault: DG14 (and SOD) genuine, another key in the chip."""
    bad = replace(files, ca_private_key=ec.generate_private_key(ec.BrainpoolP256R1()))
    c = Chip(bad)
    res = chip_authentication(_open(c), _dg14(bad))
    assert res.result == "failed" and res.protocol == CA_AES128
    assert res.reason is not None and "does not hold the key in DG14" in res.reason
    assert c.sm is None  # the chip dropped the session on the bad MAC


def test_key_ids(files: CardFiles) -> None:
    assert files.ca_private_key is not None
    other = ec.generate_private_key(ec.BrainpoolP256R1())
    infos: list[SecurityInfo] = [
        ChipAuthenticationInfo(CA_AES128, 1, 7),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(other), 3),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key), 7),
    ]
    f = _with_dg14(files, infos, ca_key_id=7)
    ch = _open(Chip(f))
    res = chip_authentication(ch, _dg14(f))
    assert res == CAResult("passed", CA_AES128, 7, None)
    mse = [r.plain_command for r in ch.log if r.plain_command and r.plain_command[1] == 0x22]
    assert mse[-1].endswith(h("840107"))
    # A chip without key 7 answers 6A88: CA advertised but refused → failed.
    g = replace(f, ca_key_id=8)
    res = chip_authentication(_open(Chip(g)), _dg14(g))
    assert res.result == "failed" and "6A88" in (res.reason or "")


def test_not_supported_cases(files: CardFiles) -> None:
    ch = _open(Chip(files))
    assert chip_authentication(ch, None).result == "not_supported"
    empty = dg14_mod.DG14(())
    assert chip_authentication(ch, empty).result == "not_supported"
    assert files.ca_private_key is not None
    odd = dg14_mod.DG14(
        (
            ChipAuthenticationInfo(ID_CA_ECDH + ".9", 1),
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key)),
        )
    )
    res = chip_authentication(ch, odd)
    assert res.result == "not_supported" and "not supported" in (res.reason or "")
    mixed = dg14_mod.DG14(
        (
            ChipAuthenticationInfo(ID_CA_DH + ".2", 1),
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key)),
        )
    )
    assert chip_authentication(ch, mixed).result == "not_supported"
    # Nothing was sent for any of these: the PACE session is untouched and still works.
    assert ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=4)).sw == 0x9000


def test_card_access_info_is_used_when_dg14_has_none(files: CardFiles) -> None:
    assert files.ca_private_key is not None
    infos: list[SecurityInfo] = [
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(files.ca_private_key))
    ]
    f = _with_dg14(files, infos)
    assert f.card_access is not None
    cac = card_access_mod.parse(f.card_access)
    res = chip_authentication(_open(Chip(f)), _dg14(f), cac)
    assert res.passed and res.protocol == CA_AES128


def test_ca_then_aa(files: CardFiles) -> None:
    """The session's order: CA, then AA under the CA keys (RSA-2048 needs extended length)."""
    c = Chip(files, ChipOptions(extended_length=True))
    ch = _open(c)
    assert chip_authentication(ch, _dg14(files)).passed
    aa = active_authentication(ch, dg15_mod.parse(files.dgs[15]), _dg14(files))
    assert aa.passed and isinstance(files.aa_private_key, rsa.RSAPrivateKey)


def test_result_json() -> None:
    res = CAResult("failed", CA_AES128, 1, "x")
    assert res.to_json() == {"result": "failed", "protocol": CA_AES128, "key_id": 1, "reason": "x"}
    assert ca_mod.ca_suite(CA_AES128) is not None and ca_mod.ca_suite("1.2.3") is None
    assert ca_mod.encode_key_id(0) == b"\x00" and ca_mod.encode_key_id(256) == b"\x01\x00"
