"""PACE-GM over ECDH: ICAO 9303-11 appendix G.1 byte for byte, reader and chip, plus failures.

G.1: brainpoolP256r1, id-PACE-ECDH-GM-AES-CBC-CMAC-128, MRZ password of the
document T22000129 / 640812 / 101031. Every intermediate value and every
APDU of the example is checked exactly, from both sides independently.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest

from kiosk.emrtd import ec, pace
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import (
    AccessDenied,
    AccessKeyError,
    AuthenticationError,
    EmrtdError,
    StatusError,
    UnsupportedProtocol,
)
from kiosk.emrtd.security_infos import (
    ID_PACE_DH_GM,
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    PACEInfo,
)
from kiosk.emrtd.sm import SecureMessaging
from simulators.card.pace import PaceChip
from tests.fixtures.replay import ReplayTransport

H = bytes.fromhex

# ---------------------------------------------------------------- ICAO 9303-11 G.1 values
MRZ_INFO = "T22000129364081251010318"
K = H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")  # SHA-1(MRZ_information)
K_PI = H("89DED1B26624EC1E634C1989302849DD")
Z = H("95A3A016522EE98D01E76CB6B98B42C3")
S = H("3F00C4D39D153F2B2A214A078D899B22")
SK_MAP_PCD = 0x7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99
SK_MAP_IC = 0x498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560
SK_DH_PCD = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
SK_DH_IC = 0x107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A
PK_MAP_PCD = H(
    "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
PK_MAP_IC = H(
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
H_POINT = H(
    "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
    "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
)
G_MAPPED = H(
    "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
)
PK_DH_PCD = H(
    "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
PK_DH_IC = H(
    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
)
SHARED = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
KS_ENC = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = H("FE251C7858B356B24514B3BD5F4297D1")
T_PCD = H("C2B0BD78D94BA866")
T_IC = H("3ABB9674BCE93C08")
OID = H("04007F00070202040202")  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
TOKEN_INPUT_PCD = H("7F494F060A04007F00070202040202864104") + PK_DH_IC[1:]

INFO = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
BP = ec.BRAINPOOL_P256R1

MSE = H("0022C1A40F800A04007F00070202040202830101")
GA = [
    (H("10860000027C0000"), H("7C128010") + Z + H("9000")),
    (H("10860000457C438141") + PK_MAP_PCD + H("00"), H("7C438241") + PK_MAP_IC + H("9000")),
    (H("10860000457C438341") + PK_DH_PCD + H("00"), H("7C438441") + PK_DH_IC + H("9000")),
    (H("008600000C7C0A8508") + T_PCD + H("00"), H("7C0A8608") + T_IC + H("9000")),
]
G1_EXCHANGE = [(MSE, H("9000")), *GA]


def g1_password() -> pace.PacePassword:
    return pace.PacePassword.from_mrz(MRZ_INFO)


def g1_chip() -> PaceChip:
    return PaceChip({1: K}, INFO, rng=lambda n: S[:n], ephemeral_keys=(SK_MAP_IC, SK_DH_IC))


# ---------------------------------------------------------------- G.1 step by step


def test_g1_password_key() -> None:
    pw = g1_password()
    assert pw.ref == pace.PASSWORD_MRZ and pw.secret == K
    assert pw.key(Cipherkind.AES, 128) == K_PI
    assert repr(pw) == "PacePassword(ref=1)"  # the secret stays out of logs


def test_g1_nonce() -> None:
    assert pace.decrypt_nonce(Cipherkind.AES, K_PI, Z) == S
    assert pace.encrypt_nonce(Cipherkind.AES, K_PI, S) == Z


def test_g1_mapping_and_key_agreement() -> None:
    h = ec.decode_point(BP, H_POINT)
    assert ec.multiply(BP, SK_MAP_PCD, ec.decode_point(BP, PK_MAP_IC)) == h
    g_mapped = pace.map_generator(BP, S, h)
    assert ec.encode_point(BP, g_mapped) == G_MAPPED
    assert ec.encode_point(BP, ec.KeyPair(BP, SK_DH_PCD, g_mapped).public) == PK_DH_PCD
    assert ec.encode_point(BP, ec.KeyPair(BP, SK_DH_IC, g_mapped).public) == PK_DH_IC
    assert ec.KeyPair(BP, SK_DH_PCD).shared_x(ec.decode_point(BP, PK_DH_IC)) == SHARED
    assert ec.KeyPair(BP, SK_DH_IC).shared_x(ec.decode_point(BP, PK_DH_PCD)) == SHARED


def test_g1_session_keys_and_tokens() -> None:
    assert pace.derive_session_keys(Cipherkind.AES, 128, SHARED) == (KS_ENC, KS_MAC)
    assert pace.public_key_data(OID, PK_DH_IC) == TOKEN_INPUT_PCD
    assert pace.authentication_token(Cipherkind.AES, KS_MAC, OID, PK_DH_IC) == T_PCD
    assert pace.authentication_token(Cipherkind.AES, KS_MAC, OID, PK_DH_PCD) == T_IC


def test_g1_suite_and_mse_data() -> None:
    suite = pace.suite_for(INFO)
    assert suite.oid_bytes == OID and suite.curve is BP and suite.kind is Cipherkind.AES
    assert pace.mse_set_at_data(suite, 1) == MSE[5:]
    assert pace.mse_set_at_data(suite, 1, send_parameter_id=True) == MSE[5:] + H("84010D")


# ---------------------------------------------------------------- G.1 whole exchange


def test_g1_reader_against_replay() -> None:
    transport = ReplayTransport(G1_EXCHANGE)
    channel = CardChannel(transport)
    result = pace.establish(channel, g1_password(), INFO, ephemeral_keys=(SK_MAP_PCD, SK_DH_PCD))
    assert transport.done
    assert (result.ks_enc, result.ks_mac) == (KS_ENC, KS_MAC)
    assert (result.token_pcd, result.token_ic) == (T_PCD, T_IC)
    assert (result.pk_pcd, result.pk_ic) == (PK_DH_PCD, PK_DH_IC)
    assert channel.sm is None


def test_g1_reader_installs_secure_messaging() -> None:
    channel = CardChannel(ReplayTransport(G1_EXCHANGE))
    sm = pace.pace(channel, g1_password(), INFO, ephemeral_keys=(SK_MAP_PCD, SK_DH_PCD))
    assert channel.sm is sm
    assert (sm.kind, sm.ks_enc, sm.ks_mac, sm.ssc) == (Cipherkind.AES, KS_ENC, KS_MAC, 0)


def test_g1_reader_with_parameter_id() -> None:
    mse = H("0022C1A412800A04007F0007020204020283010184010D")
    channel = CardChannel(ReplayTransport([(mse, H("9000")), *GA]))
    result = pace.establish(
        channel, g1_password(), INFO, ephemeral_keys=(SK_MAP_PCD, SK_DH_PCD), send_parameter_id=True
    )
    assert result.ks_mac == KS_MAC


def test_g1_chip_replies() -> None:
    chip = g1_chip()
    assert chip.mse_set_at(MSE[5:]) == 0x9000
    sm: SecureMessaging | None = None
    for command, reply in GA:
        cmd = CommandAPDU.parse(command)
        data, sw, sm = chip.general_authenticate(cmd.cla, cmd.data)
        assert data + sw.to_bytes(2, "big") == reply
    assert sm is not None
    assert (sm.kind, sm.ks_enc, sm.ks_mac, sm.ssc) == (Cipherkind.AES, KS_ENC, KS_MAC, 0)
    assert chip.failed_attempts == 0 and chip.authenticated_ref == 1


# ---------------------------------------------------------------- reader ↔ chip


class ChipTransport:
    """Dispatches MSE:Set AT and GENERAL AUTHENTICATE to a PaceChip; optional reply tamper."""

    max_command_len = 261
    max_response_len = 258
    extended_length = False

    def __init__(self, chip: PaceChip, tamper: dict[int, bytes] | None = None) -> None:
        self.chip = chip
        self.tamper = tamper or {}
        self.count = 0
        self.sm: SecureMessaging | None = None

    def transmit(self, apdu: bytes) -> bytes:
        cmd = CommandAPDU.parse(apdu)
        index = self.count
        self.count += 1
        if cmd.ins == 0x22:
            reply = ResponseAPDU(b"", self.chip.mse_set_at(cmd.data))
        else:
            data, sw, sm = self.chip.general_authenticate(cmd.cla, cmd.data)
            self.sm = sm or self.sm
            reply = ResponseAPDU(data, sw)
        return self.tamper.get(index, reply.to_bytes())

    def close(self) -> None:
        pass


SUITES = {".1": "3DES", ".2": "AES-128", ".3": "AES-192", ".4": "AES-256"}
CASES = [
    (pid, suffix) for pid, suffix in itertools.product(sorted(ec.PARAMETER_IDS), (".2", ".3", ".4"))
]
CASES += [(13, ".1"), (12, ".1")]


@pytest.mark.parametrize(
    ("pid", "suffix"),
    CASES,
    ids=[f"{ec.PARAMETER_IDS[p].name}-{SUITES[s]}" for p, s in CASES],
)
def test_round_trip(pid: int, suffix: str) -> None:
    info = PACEInfo(ID_PACE_ECDH_GM + suffix, 2, pid)
    can = pace.PacePassword.from_can("123456")
    chip = PaceChip({2: can.secret}, info)
    transport = ChipTransport(chip)
    channel = CardChannel(transport)
    sm = pace.pace(channel, can, info)
    assert transport.sm is not None and channel.sm is sm
    assert (sm.ks_enc, sm.ks_mac) == (transport.sm.ks_enc, transport.sm.ks_mac)
    kind = Cipherkind.DES3 if suffix == ".1" else Cipherkind.AES
    assert sm.kind is kind and len(sm.ks_enc) == {".1": 16, ".2": 16, ".3": 24, ".4": 32}[suffix]
    # the chip's SM answers what the reader's SM sends
    cmd = sm.protect(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, H("A0000002471001")), False)
    assert transport.sm.unprotect_command(cmd).data == H("A0000002471001")


def test_wrong_can_is_access_denied() -> None:
    chip = PaceChip({2: b"123456"}, INFO)
    channel = CardChannel(ChipTransport(chip))
    with pytest.raises(AccessDenied):
        pace.pace(channel, pace.PacePassword.from_can("654321"), INFO)
    assert chip.failed_attempts == 1 and channel.sm is None
    # the right CAN still works afterwards
    pace.pace(channel, pace.PacePassword.from_can("123456"), INFO)
    assert channel.sm is not None and chip.failed_attempts == 1


def test_mrz_password_round_trip() -> None:
    chip = PaceChip({1: K, 2: b"123456"}, INFO)
    channel = CardChannel(ChipTransport(chip))
    pace.pace(channel, g1_password(), INFO)
    assert chip.authenticated_ref == 1


# ---------------------------------------------------------------- reader failures


@pytest.mark.parametrize(
    "info",
    [
        PACEInfo(ID_PACE_DH_GM + ".2", 2, 0),
        PACEInfo(ID_PACE_ECDH_IM + ".2", 2, 10),  # P-224: p = 1 mod 4, no point encoding
        PACEInfo(ID_PACE_ECDH_CAM + ".1", 2, 13),  # PACE-CAM has no 3DES suite
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 2),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 19),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, None),
        PACEInfo(ID_PACE_ECDH_GM + ".5", 2, 13),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 1, 13),
        PACEInfo("0.4.0.127.0.7.2.2.3.2.2", 1, 13),
        PACEInfo("junk", 2, 13),
    ],
)
def test_unsupported_sends_nothing(info: PACEInfo) -> None:
    assert not pace.is_supported(info)
    transport = ReplayTransport([])
    with pytest.raises(UnsupportedProtocol):
        pace.pace(CardChannel(transport), pace.PacePassword.from_can("123456"), info)
    assert transport.index == 0


def _run_tampered(index: int, reply: bytes) -> None:
    chip = PaceChip({2: b"123456"}, INFO)
    channel = CardChannel(ChipTransport(chip, {index: reply}))
    pace.pace(channel, pace.PacePassword.from_can("123456"), INFO)


@pytest.mark.parametrize("sw", ["6300", "63C2", "6982", "6983"])
def test_last_step_rejection_is_access_denied(sw: str) -> None:
    with pytest.raises(AccessDenied):
        _run_tampered(4, H(sw))


def test_blocked_password_at_mse() -> None:
    with pytest.raises(AccessDenied):
        _run_tampered(0, H("6983"))
    with pytest.raises(StatusError):
        _run_tampered(0, H("6A80"))


@pytest.mark.parametrize("index", [1, 2, 3])
def test_errors_in_earlier_steps_are_status_errors(index: int) -> None:
    with pytest.raises(StatusError) as info:
        _run_tampered(index, H("6A80"))
    assert info.value.sw == 0x6A80
    with pytest.raises(StatusError):
        _run_tampered(index, H("6300"))


def test_bad_chip_token_is_access_denied() -> None:
    with pytest.raises(AccessDenied):
        _run_tampered(4, H("7C0A8608") + bytes(8) + H("9000"))


def _off_curve(point: bytes) -> bytes:
    return point[:-1] + bytes([point[-1] ^ 1])


@pytest.mark.parametrize(
    ("index", "reply"),
    [
        (1, H("7C128110") + Z + H("9000")),  # wrong tag
        (1, H("7C038001009000")),  # nonce not a whole block
        (1, H("7C00") + H("9000")),
        (1, H("9000")),
        (2, H("7C438241") + _off_curve(PK_MAP_IC) + H("9000")),
        (2, H("7C058201") + H("9000")),  # truncated
        (2, H("7C03820100") + H("9000")),  # point at infinity encoding
        (2, H("7C228221") + b"\x02" + PK_MAP_IC[1:33] + H("9000")),  # compressed
        (3, H("7C438441") + _off_curve(PK_DH_IC) + H("9000")),
        (3, H("7C4384") + H("41") + PK_DH_IC + H("9000")),  # valid point, wrong length byte
        (4, H("7C0A8508") + T_IC + H("9000")),  # wrong tag
        (4, H("6A") + H("9000")),
    ],
)
def test_malformed_replies_raise_project_errors(index: int, reply: bytes) -> None:
    with pytest.raises(EmrtdError) as info:
        _run_tampered(index, reply)
    assert isinstance(info.value, (AuthenticationError, AccessDenied)), info.value


def test_reflected_ephemeral_key_is_rejected() -> None:
    """A chip that echoes PK_DH,PCD back must be refused (ICAO 9303-11 §4.4.1 d)."""

    class Echo(ChipTransport):
        def transmit(self, apdu: bytes) -> bytes:
            reply = super().transmit(apdu)
            cmd = CommandAPDU.parse(apdu)
            if self.count == 4:
                return H("7C4384") + cmd.data[3:] + H("9000")
            return reply

    chip = PaceChip({2: b"123456"}, INFO)
    with pytest.raises(AuthenticationError, match="equals"):
        pace.pace(CardChannel(Echo(chip)), pace.PacePassword.from_can("123456"), INFO)


def test_parse_dad() -> None:
    assert pace.parse_dad(H("7C0380010A"), 0x80) == H("0A")
    for bad in (b"", H("7C"), H("7D0380010A"), H("7C0380010A00"), H("7C0381010A"), H("7C05")):
        with pytest.raises(AuthenticationError):
            pace.parse_dad(bad, 0x80)


def test_passwords() -> None:
    assert pace.PacePassword.from_can(" 123456 ").secret == b"123456"
    assert pace.PacePassword.from_mrz(MRZ_INFO).secret == hashlib.sha1(MRZ_INFO.encode()).digest()
    for bad in ("", "12a456", "１２３４５６", "1" * 21):
        with pytest.raises(AccessKeyError):
            pace.PacePassword.from_can(bad)
    with pytest.raises(AccessKeyError):
        pace.PacePassword.from_mrz("")
    with pytest.raises(AccessKeyError):
        pace.PacePassword(7, b"x")
    assert pace.PacePassword.from_can("123456").key(
        Cipherkind.AES, 256
    ) != pace.PacePassword.from_can("123456").key(Cipherkind.AES, 128)


def test_encode_oid() -> None:
    assert pace.encode_oid(ID_PACE_ECDH_GM + ".2") == OID
    assert pace.encode_oid("1.2.840.10045.2.1") == H("2A8648CE3D0201")
    for bad in ("", "1", "3.1", "1.40", "a.b", "1.2.-3"):
        with pytest.raises(UnsupportedProtocol):
            pace.encode_oid(bad)


# ---------------------------------------------------------------- chip failures


def _chip_ready() -> PaceChip:
    chip = g1_chip()
    assert chip.mse_set_at(MSE[5:]) == 0x9000
    return chip


def test_chip_mse_checks() -> None:
    chip = g1_chip()
    assert chip.mse_set_at(H("800A04007F00070202040203830101")) == 0x6A80  # other OID
    assert chip.mse_set_at(H("800A04007F00070202040202830102")) == 0x6A80  # no CAN stored
    assert chip.mse_set_at(H("800A04007F0007020204020283010184010C")) == 0x6A80  # other pid
    assert chip.mse_set_at(H("800A04007F00070202040202")) == 0x6A80  # no password ref
    assert chip.mse_set_at(H("800A04007F000702020402028302")) == 0x6A80  # truncated
    assert chip.mse_set_at(H("800A04007F0007020204020283010184010D")) == 0x9000


def test_chip_sequence_checks() -> None:
    chip = g1_chip()
    assert chip.general_authenticate(0x10, H("7C00"))[1] == 0x6985  # no MSE:Set AT
    chip = _chip_ready()
    assert chip.general_authenticate(0x00, H("7C00"))[1] == 0x6985  # chaining bit missing
    assert chip.general_authenticate(0x10, H("7C00"))[1] == 0x6985  # reset: needs MSE again
    chip = _chip_ready()
    assert chip.general_authenticate(0x10, H("7C028000"))[1] == 0x6A80  # GA 1 must be empty
    chip = _chip_ready()
    chip.general_authenticate(0x10, H("7C00"))
    assert chip.general_authenticate(0x10, H("7C438141") + _off_curve(PK_MAP_PCD))[1] == 0x6A80
    chip = _chip_ready()
    chip.general_authenticate(0x10, H("7C00"))
    chip.general_authenticate(0x10, H("7C438141") + PK_MAP_PCD)
    chip.general_authenticate(0x10, H("7C438341") + PK_DH_PCD)
    assert chip.general_authenticate(0x10, H("7C0A8508") + T_PCD)[1] == 0x6985  # chained last


def test_chip_wrong_token_counts_attempts() -> None:
    chip = g1_chip()
    for attempt in (1, 2):
        assert chip.mse_set_at(MSE[5:]) == 0x9000
        for command, _ in GA[:3]:
            cmd = CommandAPDU.parse(command)
            assert chip.general_authenticate(cmd.cla, cmd.data)[1] == 0x9000
        assert chip.general_authenticate(0x00, H("7C0A8508") + bytes(8)) == (b"", 0x6300, None)
        assert chip.failed_attempts == attempt and chip.authenticated_ref is None
    # a failed run leaves the chip waiting for a new MSE:Set AT
    assert chip.general_authenticate(0x10, H("7C00"))[1] == 0x6985
