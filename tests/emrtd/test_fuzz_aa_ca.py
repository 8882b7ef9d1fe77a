"""Property tests for AA, CA and PACE-IM/CAM: junk gives a result or a project error, never a
crash and never ``passed``; ISO/IEC 9796-2 and the IM point encoding hold for any input."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from drivers.simulated import SimulatedTransport
from kiosk.emrtd import ec, iso9796, pace, tlv
from kiosk.emrtd.aa import verify_active_authentication
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.ca import verify_cam
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import SecureMessagingError
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.lds import dg15 as dg15_mod
from kiosk.emrtd.security_infos import (
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_IM,
    ID_PK_ECDH,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
)
from simulators.card.chip import CardFiles, Chip
from simulators.card.pace import PaceChip
from simulators.card.personalize import make_chip

RSA_KEY = rsa.generate_private_key(65537, 1024)
N = RSA_KEY.public_key().public_numbers().n
D = RSA_KEY.private_numbers().d
EC_KEY = cec.derive_private_key(0xC0FFEE, cec.SECP256R1())
CAN = pace.PacePassword.from_can("123456")


def _dg15(key: rsa.RSAPrivateKey | cec.EllipticCurvePrivateKey) -> dg15_mod.DG15:
    return dg15_mod.DG15(
        key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )


@cache
def _files() -> CardFiles:
    return make_chip("default").files


# ---------------------------------------------------------------- ISO/IEC 9796-2


@given(sig=st.binary(max_size=140), m2=st.binary(max_size=16))
def test_iso9796_junk_raises_only_its_error(sig: bytes, m2: bytes) -> None:
    try:
        iso9796.verify(sig, N, 65537, m2)
    except iso9796.ISO9796Error:
        return
    raise AssertionError("junk verified")  # pragma: no cover


@given(
    hash_name=st.sampled_from(["sha1", "sha224", "sha256", "sha384", "sha512"]),
    m2=st.binary(min_size=1, max_size=16),
    data=st.data(),
)
def test_iso9796_sign_verify_round_trip(hash_name: str, m2: bytes, data: st.DataObject) -> None:
    m1 = data.draw(st.binary(max_size=iso9796.capacity(N, hash_name)))
    sig = iso9796.sign(D, N, m1, m2, hash_name)
    rec = iso9796.verify(sig, N, 65537, m2)
    assert (rec.m1, rec.hash_name, rec.partial) == (m1, hash_name, True)
    bad = bytes([m2[0] ^ 1]) + m2[1:]
    try:
        iso9796.verify(sig, N, 65537, bad)
    except iso9796.ISO9796Error:
        pass
    else:  # pragma: no cover
        raise AssertionError("a changed M2 verified")


# ---------------------------------------------------------------- Active Authentication


@given(
    key=st.sampled_from(["rsa", "ec"]),
    challenge=st.binary(min_size=8, max_size=8),
    response=st.binary(max_size=300),
)
def test_aa_junk_never_passes(key: str, challenge: bytes, response: bytes) -> None:
    dg15 = _dg15(RSA_KEY if key == "rsa" else EC_KEY)
    res = verify_active_authentication(dg15, None, challenge, response)
    assert res.result == "failed" and res.reason


# ---------------------------------------------------------------- Chip Authentication (chip side)

MSE_OR_GA = st.sampled_from(
    [(0x22, 0x41, 0xA4), (0x22, 0x41, 0xA6), (0x86, 0x00, 0x00), (0x22, 0x41, 0xA4)]
)


@given(
    steps=st.lists(
        st.tuples(
            MSE_OR_GA,
            st.one_of(
                st.binary(max_size=120),
                st.builds(lambda v: tlv.encode(0x91, v), st.binary(max_size=70)),
                st.builds(lambda v: tlv.encode(0x7C, tlv.encode(0x80, v)), st.binary(max_size=70)),
                st.builds(
                    lambda v: tlv.encode(0x80, v) + tlv.encode(0x84, b"\x01"),
                    st.binary(max_size=12),
                ),
            ),
        ),
        max_size=4,
    )
)
def test_chip_ca_survives_junk(steps: list[tuple[tuple[int, int, int], bytes]]) -> None:
    files = _files()
    card = Chip(files)
    channel = CardChannel(SimulatedTransport(card))
    assert files.pace_info is not None
    pace.pace(channel, pace.PacePassword.from_can(files.can), files.pace_info)
    for (ins, p1, p2), data in steps:
        if card.sm is None:
            break
        try:
            resp = channel.send(
                CommandAPDU(0x00, ins, p1, p2, data, ne=256 if ins == 0x86 else None)
            )
        except SecureMessagingError:
            break  # the chip switched keys on a valid point: this reader's SM cannot follow
        assert 0x6000 <= resp.sw <= 0x9FFF


# ---------------------------------------------------------------- PACE-IM / CAM


@given(t=st.integers(min_value=2, max_value=ec.BRAINPOOL_P256R1.p - 2))
def test_im_point_encoding_always_on_curve(t: int) -> None:
    curve = ec.BRAINPOOL_P256R1
    try:
        point = pace.point_encode(curve, t)
    except ec.InvalidPoint:
        assert (t * t) % curve.p == 1  # only t = ±1 cannot map
        return
    assert ec.is_on_curve(curve, point)


IM_INFO = PACEInfo(ID_PACE_ECDH_IM + ".2", 2, 13)
CAM_INFO = PACEInfo(ID_PACE_ECDH_CAM + ".2", 2, 13)
CA_KEY = cec.derive_private_key(0xBEEF, cec.BrainpoolP256R1())
junk_dad = st.one_of(
    st.binary(max_size=120),
    st.builds(
        lambda tag, body: pace.encode_dad(tag, body),
        st.sampled_from([0x81, 0x83, 0x85, 0x8A]),
        st.binary(max_size=80),
    ),
)


@given(info=st.sampled_from([IM_INFO, CAM_INFO]), steps=st.lists(junk_dad, max_size=4))
def test_pace_im_cam_chip_survives_junk(info: PACEInfo, steps: list[bytes]) -> None:
    chip = PaceChip({2: CAN.secret}, info, ca_key=CA_KEY.private_numbers().private_value)
    assert chip.mse_set_at(pace.mse_set_at_data(pace.suite_for(info), 2)) == 0x9000
    for i, data in enumerate(steps):
        _, sw, sm = chip.general_authenticate(0x10 if i < 3 else 0x00, data)
        assert sm is None and 0x6000 <= sw <= 0x9FFF


@cache
def _cam_result() -> pace.PaceResult:
    from tests.emrtd.test_pace_cam_im import ChipTransport

    chip = PaceChip({2: CAN.secret}, CAM_INFO, ca_key=CA_KEY.private_numbers().private_value)
    return pace.run(CardChannel(ChipTransport(chip)), CAN, CAM_INFO)


@given(a_ic=st.one_of(st.none(), st.binary(max_size=80)), pk_map=st.binary(max_size=70))
def test_verify_cam_junk_never_passes(a_ic: bytes | None, pk_map: bytes) -> None:
    spki = CA_KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    dg14 = dg14_mod.DG14((ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, spki),))
    result = _cam_result()
    genuine = verify_cam(result, dg14)
    assert genuine.passed
    res = verify_cam(replace(result, encrypted_chip_auth_data=a_ic, pk_map_ic=pk_map), dg14)
    assert res.result == "failed" and res.reason
