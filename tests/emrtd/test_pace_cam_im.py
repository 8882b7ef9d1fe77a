"""PACE integrated mapping and chip authentication mapping.

IM is pinned to ICAO 9303-11's worked example "PACE – Integrated Mapping, ECDH
based example" (brainpoolP256r1, AES-128, CAN 123456): the reader is replayed
against the published bytes, step values checked one by one. No public worked
example for PACE-CAM was found (ICAO 9303-11 and BSI TR-03110 give none), so
CAM is checked by round trips and by recomputing ``CA_IC`` here with
``cryptography`` alone.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from drivers.simulated import SimulatedTransport
from kiosk.emrtd import ec, pace, tlv
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.ca import verify_cam
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import AuthenticationError
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.security_infos import (
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    ID_PK_ECDH,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
)
from simulators.card.chip import Chip
from simulators.card.pace import PaceChip
from simulators.card.personalize import make_chip
from tests.fixtures.replay import ReplayTransport


def H(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# ---------------------------------------------------------------- ICAO 9303-11 IM example
IM_INFO = PACEInfo(ID_PACE_ECDH_IM + ".2", 2, 13)
IM_OID = H("04007F00070202040402")
IM_K_PI = H("591468CD A83D6521 9CCCB856 0233600F")
IM_Z = H("143DC40C 08C8E891 FBED7DED B92B64AD")
IM_S = H("2923BE84 E16CD6AE 529049F1 F1BBE9EB")
IM_T = H("5DD4CBFC 96F5453B 130D890A 1CDBAE32")
IM_R = H(
    "E4447E2D FB3586BA C05DDB00 156B57FB B2179A39 49294C97 25418980 0C517BAA"
    "8DA0FF39 7ED8C445 D3E421E4 FEB57322"
)
IM_RP = H("A2F8FF2D F50E52C6 599F386A DCB595D2 29F6A167 ADE2BE5F 2C3296AD D5B7430E")
IM_G = H(
    "04 8E82D315 59ED0FDE 92A4D049 8ADD3C23 BABA94FB 77691E31 E90AEA77 FB17D427"
    "4C1AE14B D0C3DBAC 0C871B7F 36081693 64437CA3 0AC243A0 89D3F266 C1E60FAD"
)
IM_SK_PCD = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
IM_PK_PCD = H(
    "04 89CBA23F FE96AA18 D824627C 3E934E54 A9FD0B87 A95D1471 DC1C0ABF DCD640D4"
    "6755DE9B 7B778280 B6BEBD57 439ADFEB 0E21FD4E D6DF4257 8C13418A 59B34C37"
)
IM_PK_IC = H(
    "04 67F78E5F 7F768608 2B293E8D 087E0569 16D0F74B C01A5F89 57D0DE45 691E51E8"
    "932B69A9 62B52A09 85AD2C0A 271EE6A1 3A8ADDDC D1A3A994 B9DED257 F4D22753"
)
IM_K = H("4F150FDE 1D4F0E38 E95017B8 91BAE171 33A0DF45 B0D3E18B 60BA7BEA FDC2C713")
IM_KS_ENC = H("0D3FEB33 251A6370 893D62AE 8DAAF51B")
IM_KS_MAC = H("B01E89E3 D9E8719E 586B50B4 A7506E0B")
IM_T_PCD = H("450F02B8 6F6A0909")
IM_T_IC = H("75D4D96E 8D5B0308")
BP = ec.BRAINPOOL_P256R1

IM_EXCHANGE = [
    (H("0022C1A40F800A") + IM_OID + H("830102"), H("9000")),
    (H("10860000027C0000"), H("7C128010") + IM_Z + H("9000")),
    (H("10860000147C128110") + IM_T + H("00"), H("7C0282009000")),
    (H("10860000457C438341") + IM_PK_PCD + H("00"), H("7C438441") + IM_PK_IC + H("9000")),
    (H("008600000C7C0A8508") + IM_T_PCD + H("00"), H("7C0A8608") + IM_T_IC + H("9000")),
]
CAN = pace.PacePassword.from_can("123456")


def test_im_worked_example_step_by_step() -> None:
    suite = pace.suite_for(IM_INFO)
    assert (suite.mapping, suite.nonce_length, suite.key_length) == ("IM", 16, 16)
    assert CAN.key(Cipherkind.AES, 128) == IM_K_PI
    assert pace.decrypt_nonce(Cipherkind.AES, IM_K_PI, IM_Z) == IM_S
    assert pace.pseudo_random(suite, IM_S, IM_T) == int.from_bytes(IM_R) % BP.p
    assert pace.pseudo_random(suite, IM_S, IM_T).to_bytes(32) == IM_RP
    g = pace.integrated_map(suite, IM_S, IM_T)
    assert ec.encode_point(BP, g) == IM_G
    key = ec.KeyPair(BP, IM_SK_PCD, g)
    assert ec.encode_point(BP, key.public) == IM_PK_PCD
    assert key.shared_x(ec.decode_point(BP, IM_PK_IC)) == IM_K
    assert pace.derive_session_keys(Cipherkind.AES, 128, IM_K) == (IM_KS_ENC, IM_KS_MAC)
    assert pace.authentication_token(Cipherkind.AES, IM_KS_MAC, IM_OID, IM_PK_IC) == IM_T_PCD
    assert pace.authentication_token(Cipherkind.AES, IM_KS_MAC, IM_OID, IM_PK_PCD) == IM_T_IC


def test_im_worked_example_reader_replay() -> None:
    transport = ReplayTransport(IM_EXCHANGE)
    channel = CardChannel(transport)
    result = pace.run(channel, CAN, IM_INFO, rng=lambda n: IM_T[:n], ephemeral_keys=(1, IM_SK_PCD))
    assert transport.done
    assert (result.ks_enc, result.ks_mac) == (IM_KS_ENC, IM_KS_MAC)
    assert (result.pk_ic, result.pk_pcd, result.token_ic) == (IM_PK_IC, IM_PK_PCD, IM_T_IC)
    assert result.encrypted_chip_auth_data is None and channel.sm is not None


def test_im_worked_example_chip_side() -> None:
    """The chip maps to the published G' (its own key is not in the example: pick one)."""
    sk_ic = 0x1234567890
    chip = PaceChip({2: b"123456"}, IM_INFO, rng=lambda n: IM_S[:n], ephemeral_keys=(0, sk_ic))
    assert chip.mse_set_at(H("800A") + IM_OID + H("830102")) == 0x9000
    data, sw, _ = chip.general_authenticate(0x10, H("7C00"))
    assert (sw, pace.parse_dad(data, 0x80)) == (0x9000, IM_Z)
    data, sw, _ = chip.general_authenticate(0x10, H("7C128110") + IM_T)
    assert (data, sw) == (H("7C028200"), 0x9000)
    data, sw, _ = chip.general_authenticate(0x10, H("7C438341") + IM_PK_PCD)
    pk_ic = pace.parse_dad(data, 0x84)
    assert pk_ic == ec.encode_point(BP, ec.multiply(BP, sk_ic, ec.decode_point(BP, IM_G)))


def test_point_encoding_lands_on_the_curve_for_all_supported_curves() -> None:
    for pid, curve in ec.PARAMETER_IDS.items():
        if curve.p % 4 != 3:
            continue
        for t in (2, 12345, curve.p - 2, (curve.p >> 3) + 7):
            point = pace.point_encode(curve, t)
            assert ec.is_on_curve(curve, point), (pid, t)
        # t = ±1 makes α + α² = 0: the one input the encoding cannot map.
        with pytest.raises(ec.InvalidPoint):
            pace.point_encode(curve, 1)


# ---------------------------------------------------------------- round trips


class ChipTransport:
    """In-memory transport straight to a PaceChip (no SM: PACE runs before it)."""

    extended_length = False
    max_command_len = 261
    max_response_len = 258

    def __init__(self, chip: PaceChip) -> None:
        self.chip = chip

    def transmit(self, raw: bytes) -> bytes:
        cmd = CommandAPDU.parse(raw)
        if cmd.ins == 0x22:
            return self.chip.mse_set_at(cmd.data).to_bytes(2, "big")
        data, sw, _ = self.chip.general_authenticate(cmd.cla, cmd.data)
        return data + sw.to_bytes(2, "big")

    def close(self) -> None:
        pass


def _dg14_for(key: cec.EllipticCurvePrivateKey, key_id: int | None = None) -> dg14_mod.DG14:
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return dg14_mod.DG14((ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, spki, key_id),))


CRYPTO_CURVES = {12: cec.SECP256R1(), 13: cec.BrainpoolP256R1(), 15: cec.SECP384R1()}


@pytest.mark.parametrize("pid", [12, 13, 15, 17])
@pytest.mark.parametrize("suffix", [1, 2, 3, 4])
def test_im_round_trip(pid: int, suffix: int) -> None:
    info = PACEInfo(f"{ID_PACE_ECDH_IM}.{suffix}", 2, pid)
    chip = PaceChip({2: b"123456"}, info)
    channel = CardChannel(ChipTransport(chip))
    result = pace.run(channel, CAN, info)
    assert chip.authenticated_ref == 2 and result.suite.mapping == "IM"
    assert len(result.ks_enc) == {1: 16, 2: 16, 3: 24, 4: 32}[suffix]


def test_im_wrong_password_is_denied() -> None:
    from kiosk.emrtd.errors import AccessDenied

    chip = PaceChip({2: b"654321"}, IM_INFO)
    with pytest.raises(AccessDenied):
        pace.run(CardChannel(ChipTransport(chip)), CAN, IM_INFO)
    assert chip.failed_attempts == 1


@pytest.mark.parametrize("pid", [12, 13])
@pytest.mark.parametrize("suffix", [2, 3, 4])
def test_cam_round_trip_and_verification(pid: int, suffix: int) -> None:
    info = PACEInfo(f"{ID_PACE_ECDH_CAM}.{suffix}", 2, pid)
    ca_key = cec.generate_private_key(CRYPTO_CURVES[pid])
    chip = PaceChip({2: b"123456"}, info, ca_key=ca_key.private_numbers().private_value)
    result = pace.run(CardChannel(ChipTransport(chip)), CAN, info)
    assert result.encrypted_chip_auth_data and len(result.encrypted_chip_auth_data) == 48
    res = verify_cam(result, _dg14_for(ca_key, 5))
    assert (res.result, res.protocol, res.key_id) == ("passed", info.protocol, 5)
    # A chip whose CA key is not the one in DG14 (clone / CA key mismatch).
    other = cec.generate_private_key(CRYPTO_CURVES[pid])
    bad = verify_cam(result, _dg14_for(other))
    assert bad.result == "failed" and "does not hold the key" in (bad.reason or "")


def test_cam_chip_data_matches_an_independent_computation() -> None:
    """CA_IC = SK_IC⁻¹ · SK_map,IC mod n, encrypted AES-CBC with IV = E(KS_enc, 1…1)."""
    info = PACEInfo(ID_PACE_ECDH_CAM + ".2", 2, 13)
    ca_key = cec.generate_private_key(cec.BrainpoolP256R1())
    d = ca_key.private_numbers().private_value
    sk_map = 0x42424242
    chip = PaceChip({2: b"123456"}, info, ca_key=d, ephemeral_keys=(sk_map, 0x77))
    result = pace.run(CardChannel(ChipTransport(chip)), CAN, info)
    enc = Cipher(algorithms.AES(result.ks_enc), modes.ECB()).encryptor()
    iv = enc.update(b"\xff" * 16) + enc.finalize()
    dec = Cipher(algorithms.AES(result.ks_enc), modes.CBC(iv)).decryptor()
    assert result.encrypted_chip_auth_data is not None
    plain = dec.update(result.encrypted_chip_auth_data) + dec.finalize()
    n = BP.n
    expected = (pow(d, -1, n) * sk_map % n).to_bytes(32)
    assert plain == expected + b"\x80" + bytes(15)
    # PK_map,IC in the result is SK_map·G.
    pub = cec.derive_private_key(sk_map, cec.BrainpoolP256R1()).public_key()
    assert result.pk_map_ic == pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def test_cam_tampered_missing_or_not_applicable() -> None:
    info = PACEInfo(ID_PACE_ECDH_CAM + ".2", 2, 13)
    ca_key = cec.generate_private_key(cec.BrainpoolP256R1())
    chip = PaceChip({2: b"123456"}, info, ca_key=ca_key.private_numbers().private_value)
    result = pace.run(CardChannel(ChipTransport(chip)), CAN, info)
    dg14 = _dg14_for(ca_key)
    a_ic = result.encrypted_chip_auth_data
    assert a_ic is not None
    flipped = a_ic[:-1] + bytes([a_ic[-1] ^ 1])
    assert verify_cam(replace(result, encrypted_chip_auth_data=flipped), dg14).result == "failed"
    assert verify_cam(replace(result, encrypted_chip_auth_data=None), dg14).result == "failed"
    assert verify_cam(replace(result, encrypted_chip_auth_data=a_ic[:5]), dg14).result == "failed"
    assert verify_cam(result, None).result == "not_supported"
    p256 = _dg14_for(cec.generate_private_key(cec.SECP256R1()))
    assert verify_cam(result, p256).result == "not_supported"  # no key on the PACE curve
    gm = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
    gm_result = pace.run(CardChannel(ChipTransport(PaceChip({2: b"123456"}, gm))), CAN, gm)
    assert verify_cam(gm_result, dg14).result == "not_supported"
    with pytest.raises(ValueError):
        PaceChip({2: b"123456"}, info)  # PACE-CAM needs a CA key


def test_im_chip_rejects_bad_t_and_reader_rejects_bad_82() -> None:
    chip = PaceChip({2: b"123456"}, IM_INFO, rng=lambda n: IM_S[:n])
    assert chip.mse_set_at(H("800A") + IM_OID + H("830102")) == 0x9000
    chip.general_authenticate(0x10, H("7C00"))
    assert chip.general_authenticate(0x10, H("7C0481020102"))[1] == 0x6A80
    bad = [*IM_EXCHANGE[:2], (IM_EXCHANGE[2][0], H("7C0482020102") + H("9000"))]
    with pytest.raises(AuthenticationError):
        pace.run(CardChannel(ReplayTransport(bad)), CAN, IM_INFO, rng=lambda n: IM_T[:n])


# ---------------------------------------------------------------- through the card simulator


@pytest.mark.parametrize("protocol", [ID_PACE_ECDH_CAM + ".2", ID_PACE_ECDH_IM + ".2"])
def test_sample_card_with_cam_or_im(protocol: str) -> None:
    """The default card switched to PACE-CAM/IM: access, read DG14, verify CAM against it."""
    files = make_chip("default").files
    info = PACEInfo(protocol, 2, 13)
    card = Chip(replace(files, pace_info=info))
    channel = CardChannel(SimulatedTransport(card))
    result = pace.run(channel, pace.PacePassword.from_can(files.can), info)
    assert card.access == "pace"
    assert channel.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, H("A0000002471001"))).sw == 0x9000
    first = channel.send(CommandAPDU(0x00, 0xB0, 0x8E, 0, ne=223))  # DG14 by short EF id
    total = tlv.total_length(first.data[:8])
    raw = bytearray(first.data)
    while len(raw) < total:
        off = len(raw)
        more = channel.send(CommandAPDU(0x00, 0xB0, off >> 8, off & 0xFF, ne=223))
        raw += more.data
    assert bytes(raw) == files.dgs[14]
    res = verify_cam(result, dg14_mod.parse(bytes(raw)))
    if protocol.startswith(ID_PACE_ECDH_CAM):
        assert res.passed and res.protocol == protocol
        # The CA key-mismatch fault reaches PACE-CAM too.
        bad = Chip(
            replace(
                files,
                pace_info=info,
                ca_private_key=cec.generate_private_key(cec.BrainpoolP256R1()),
            )
        )
        ch2 = CardChannel(SimulatedTransport(bad))
        r2 = pace.run(ch2, pace.PacePassword.from_can(files.can), info)
        assert verify_cam(r2, dg14_mod.parse(files.dgs[14])).result == "failed"
    else:
        assert res.result == "not_supported"
