"""ISO/IEC 9796-2 scheme 1: published vectors, the ICAO AA worked example, and rejections.

* ISO/IEC 9796-2 (first edition) examples, as carried by Bouncy Castle's
  ISO9796Test (public): a 640-bit key with e = 3; example 1 is total
  recovery with RIPEMD-128 and trailer 32CC (B…BA padding), example 2
  partial recovery with RIPEMD-160 and the implicit trailer BC.
* ICAO 9303-11, worked example "Active Authentication" (RSA-1024, SHA-1):
  RND.IFD, M1, H and the representative F byte for byte. The example gives
  no key, so the signing step uses one generated here.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.emrtd import iso9796
from kiosk.emrtd.iso9796 import ISO9796Error

h = bytes.fromhex

# ISO/IEC 9796-2 first edition examples (e = 3).
MOD3 = int(
    "ffffffff78f6c55506c59785e871211ee120b0b5dd644aa796d82413a47b24573f1be5745b5cd995"
    "0f6b389b52350d4e01e90009669a8720bf265a2865994190a661dea3c7828e2e7ca1b19651adc2d5",
    16,
)
MSG4 = h(
    "6162636462636465636465666465666765666768666768696768696a68696a6b696a6b6c6a6b6c6d"
    "6b6c6d6e6c6d6e6f6d6e6f706e6f7071"
)
SIG4 = h(
    "374695b7ee8b273925b4656cc2e008d41463996534aa5aa5afe72a52ffd84e118085f8558f366314"
    "71d043ad342de268b94b080bee18a068c10965f581e7f32899ad378835477064abed8ef3bd530fce"
)
MSG5 = h("fedcba9876543210" * 14)
SIG5 = h(
    "5cf9a01854dbacaec83aae8efc563d74538192e95466babacd361d7c86000fe42dcb4581e48e4feb"
    "862d04698da9203b1803b262105104d510b365ee9c660857ba1c001aa57abfd1c8de92e47c275cae"
)

# ICAO 9303-11 worked example: Active Authentication (k = 1024, SHA-1).
RND_IFD = h("F173589974BF40C6")
M1 = h(
    "9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991B543F1696546C552"
    "4CF23A5303CD6C98599F40B79F377B5F3A1406B3B4D8F96784D23AA88DB7E1032A405E69325FA91A"
    "6E86F5C71AEA978264C4A207446DAD4E7292E2DCDA3024B47DA8"
)
H_ICAO = h("C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127")
F_ICAO = h(
    "6A9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991B543F1696546C5"
    "524CF23A5303CD6C98599F40B79F377B5F3A1406B3B4D8F96784D23AA88DB7E1032A405E69325FA9"
    "1A6E86F5C71AEA978264C4A207446DAD4E7292E2DCDA3024B47DA8C063AA1E6D22FBD976AB0FE73D"
    "94D2D9C6D88127BC"
)


@pytest.fixture(scope="module")
def key1024() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)


def test_iso9796_2_example_total_recovery_explicit_trailer() -> None:
    rec = iso9796.recover(SIG4, MOD3, 3)
    assert rec.m1 == MSG4
    assert (rec.hash_name, rec.partial, rec.explicit_trailer) == ("ripemd128", False, True)
    assert len(rec.digest) == 16


def test_iso9796_2_example_partial_recovery_implicit_trailer() -> None:
    rec = iso9796.recover(SIG5, MOD3, 3, implicit_hash="ripemd160")
    assert rec.partial and MSG5.startswith(rec.m1) and len(rec.m1) == 58
    done = iso9796.verify(SIG5, MOD3, 3, MSG5[len(rec.m1) :], implicit_hash="ripemd160")
    assert done.m1 == rec.m1
    with pytest.raises(ISO9796Error, match="does not match"):
        iso9796.verify(SIG5, MOD3, 3, MSG5[len(rec.m1) :][:-1] + b"\x00", implicit_hash="ripemd160")


def test_icao_aa_worked_example_representative(key1024: rsa.RSAPrivateKey) -> None:
    n = key1024.public_key().public_numbers().n
    assert hashlib.sha1(M1 + RND_IFD).digest() == H_ICAO
    assert iso9796.capacity(n) == len(M1) == (1024 - 160 - 8 - 4 - 4) // 8
    assert iso9796.representative(M1, RND_IFD, n) == F_ICAO
    sig = iso9796.sign(key1024.private_numbers().d, n, M1, RND_IFD)
    assert pow(int.from_bytes(sig), 65537, n).to_bytes(128) == F_ICAO
    rec = iso9796.verify(sig, n, 65537, RND_IFD)
    assert (rec.m1, rec.digest, rec.hash_name) == (M1, H_ICAO, "sha1")


@pytest.mark.parametrize(
    ("name", "trailer"),
    [("sha224", "38CC"), ("sha256", "34CC"), ("sha384", "36CC"), ("sha512", "35CC")],
)
def test_explicit_trailers_of_icao_option_2(
    key1024: rsa.RSAPrivateKey, name: str, trailer: str
) -> None:
    n = key1024.public_key().public_numbers().n
    m1 = bytes(range(iso9796.capacity(n, name)))
    f = iso9796.representative(m1, RND_IFD, n, name)
    assert f[0] == 0x6A and f[-2:] == h(trailer) and len(f) == 128
    sig = iso9796.sign(key1024.private_numbers().d, n, m1, RND_IFD, name)
    assert iso9796.verify(sig, n, 65537, RND_IFD).hash_name == name


def test_short_m1_uses_b_padding(key1024: rsa.RSAPrivateKey) -> None:
    n = key1024.public_key().public_numbers().n
    f = iso9796.representative(b"\x11\x22", RND_IFD, n)
    assert f[:2] == h("6BBB") and f[f.index(0xBA) + 1 :][:2] == h("1122")
    sig = iso9796.sign(key1024.private_numbers().d, n, b"\x11\x22", RND_IFD)
    assert iso9796.verify(sig, n, 65537, RND_IFD).m1 == h("1122")


def test_n_minus_j_is_accepted(key1024: rsa.RSAPrivateKey) -> None:
    n = key1024.public_key().public_numbers().n
    sig = iso9796.sign(key1024.private_numbers().d, n, M1, RND_IFD)
    other = (n - int.from_bytes(sig)).to_bytes(128)
    assert iso9796.verify(other, n, 65537, RND_IFD).m1 == M1


def test_rejections(key1024: rsa.RSAPrivateKey) -> None:
    n = key1024.public_key().public_numbers().n
    d = key1024.private_numbers().d
    sig = iso9796.sign(d, n, M1, RND_IFD)
    with pytest.raises(ISO9796Error, match="does not match"):
        iso9796.verify(sig, n, 65537, h("F173589974BF40C7"))
    with pytest.raises(ISO9796Error, match=r"total recovery|partial"):
        iso9796.verify(sig, n, 65537, b"")
    for bad in (b"", bytes(128), n.to_bytes(128), b"\x01" * 129):
        with pytest.raises(ISO9796Error):
            iso9796.recover(bad, n, 65537)
    # A random number raised to e is (almost surely) no representative.
    with pytest.raises(ISO9796Error):
        iso9796.verify(bytes(range(1, 129)), n, 65537, RND_IFD)
    # Unknown hash id in an explicit trailer.
    f = bytearray(F_ICAO)
    f[-1:] = b"\xcc"
    f[-2] = 0x99
    forged = pow(int.from_bytes(bytes(f)), d, n).to_bytes(128)
    with pytest.raises(ISO9796Error, match="unknown hash identifier"):
        iso9796.recover(forged, n, 65537)
    with pytest.raises(ISO9796Error, match="capacity"):
        iso9796.representative(M1 + b"\x00", RND_IFD, n)
