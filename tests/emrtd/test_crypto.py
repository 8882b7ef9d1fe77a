"""ICAO 9303-11 symmetric primitives: KDF (worked example D.2), padding, retail MAC, CMAC."""

from __future__ import annotations

import pytest

from kiosk.emrtd import crypto
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import SecureMessagingError


def test_kdf_icao_d2() -> None:
    seed = bytes.fromhex("239AB9CB282DAF66231DC5A4DF6BFBAE")
    assert crypto.kdf(seed, crypto.KDF_ENC, Cipherkind.DES3).hex().upper() == (
        "AB94FDECF2674FDFB9B391F85D7F76F2"
    )
    assert crypto.kdf(seed, crypto.KDF_MAC, Cipherkind.DES3).hex().upper() == (
        "7962D9ECE03D1ACD4C76089DCE131543"
    )


def test_kdf_pace_password_icao_g1() -> None:
    # G.1: K_pi from SHA-1 of the MRZ information of T22000129 / 640812 / 101031.
    import hashlib

    secret = hashlib.sha1(b"T22000129364081251010318").digest()
    assert crypto.kdf(secret, crypto.KDF_PACE, Cipherkind.AES, 128).hex().upper() == (
        "89DED1B26624EC1E634C1989302849DD"
    )


def test_kdf_aes_sizes_use_sha256_above_128() -> None:
    k = b"\x01" * 32
    assert len(crypto.kdf(k, 1, Cipherkind.AES, 192)) == 24
    assert len(crypto.kdf(k, 1, Cipherkind.AES, 256)) == 32
    assert crypto.kdf(k, 1, Cipherkind.AES, 256)[:16] != crypto.kdf(k, 1, Cipherkind.AES, 128)
    with pytest.raises(ValueError):
        crypto.kdf(k, 1, Cipherkind.AES, 100)


def test_parity() -> None:
    for b in crypto.adjust_parity(bytes(range(256))):
        assert bin(b).count("1") % 2 == 1


@pytest.mark.parametrize(
    ("data", "block", "padded"),
    [
        (b"", 8, "8000000000000000"),
        (b"\x01" * 7, 8, "0101010101010180"),
        (b"\x01" * 8, 8, "01010101010101018000000000000000"),
        (b"\x01" * 3, 16, "01010180" + "00" * 12),
    ],
)
def test_padding(data: bytes, block: int, padded: str) -> None:
    assert crypto.pad(data, block).hex().upper() == padded.upper()
    assert crypto.unpad(crypto.pad(data, block)) == data


def test_unpad_rejects_missing_marker() -> None:
    with pytest.raises(SecureMessagingError):
        crypto.unpad(bytes(8))
    with pytest.raises(SecureMessagingError):
        crypto.unpad(b"\x01\x02\x00")


def test_retail_mac_icao_d3() -> None:
    # D.3: M.IFD = MAC(K_mac, pad(E.IFD)).
    k_mac = bytes.fromhex("7962D9ECE03D1ACD4C76089DCE131543")
    e_ifd = bytes.fromhex("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
    assert crypto.retail_mac(k_mac, crypto.pad(e_ifd)).hex().upper() == "5F1448EEA8AD90A7"


def test_3des_icao_d3() -> None:
    k_enc = bytes.fromhex("AB94FDECF2674FDFB9B391F85D7F76F2")
    s = bytes.fromhex("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
    e = crypto.des3_cbc_encrypt(k_enc, s)
    assert e.hex().upper() == "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
    assert crypto.des3_cbc_decrypt(k_enc, e) == s


def test_aes_cmac_rfc4493() -> None:
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    msg = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    assert crypto.aes_cmac(key, msg, 16).hex() == "070a16b46b4d4144f79bdd9dd04a287c"
    assert crypto.aes_cmac(key, msg) == bytes.fromhex("070a16b46b4d4144")


def test_aes_cbc_round_trip_and_block_check() -> None:
    key = bytes(range(16))
    data = crypto.pad(b"Nguy\xe1\xbb\x85n", 16)
    assert crypto.aes_cbc_decrypt(key, crypto.aes_cbc_encrypt(key, data)) == data
    with pytest.raises(SecureMessagingError):
        crypto.aes_cbc_decrypt(key, b"\x00" * 15)
