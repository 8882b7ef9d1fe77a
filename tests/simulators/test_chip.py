"""The software CCCD chip: file system, status words, READ BINARY variants, access control, SM.

Most tests use a synthetic card (:func:`files`) so they do not depend on
personalisation; the exact-byte test runs ICAO 9303-11 D.3 + D.4 through the
chip, so the chip side is held to the published bytes, not only to our reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from drivers.simulated import SimulatedTransport
from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.bac import bac
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import KDF_ENC, KDF_MAC, Cipherkind, kdf
from kiosk.emrtd.errors import AccessDenied, SecureMessagingError
from kiosk.emrtd.pace import PacePassword, pace
from kiosk.emrtd.security_infos import ID_PACE_ECDH_GM, PACEInfo
from kiosk.emrtd.sm import SecureMessaging
from kiosk.transport import CardRemoved
from simulators.card.chip import CardFiles, Chip, aa_sign_rsa
from simulators.card.profile import ChipOptions

h = bytes.fromhex

MRZ_INFO = "L898902C<369080619406236"  # ICAO 9303-11 D.2
CAN = "123456"
PACE_INFO = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
EF_COM = h("60145F0104303130365F36063034303030305C026175")  # ICAO 9303-11 D.4
CARD_ACCESS = h("3114300F060A04007F0007020204020202010202010D")


def _dg(tag: int, size: int, fill: int) -> bytes:
    """A TLV file of exactly ``size`` bytes whose value is a recognisable byte pattern."""
    head = 1 + 4  # tag + 83 xx xx xx at most; shrink to fit
    for lenlen in (1, 2, 3, 4):
        head = 1 + lenlen
        n = size - head
        if len(tlv.encode_length(n)) == lenlen:
            break
    value = bytes((fill + i) & 0xFF for i in range(size - head))
    out = tlv.encode(tag, value)
    assert len(out) == size
    return out


CA_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.BrainpoolP256R1())
AA_EC_KEY = ec.derive_private_key(0x0FEDCBA987654321, ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def files(
    *,
    dg2_size: int = 15_000,
    card_access: bytes | None = CARD_ACCESS,
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = AA_EC_KEY,
) -> CardFiles:
    dgs = {
        1: _dg(0x61, 95, 1),
        2: _dg(0x75, dg2_size, 2),
        3: h("63067F6103020100"),
        13: _dg(0x6D, 480, 13),
        14: _dg(0x6E, 300, 14),
        15: _dg(0x6F, 94, 15),
    }
    return CardFiles(
        card_access=card_access,
        com=EF_COM,
        sod=_dg(0x77, 1800, 0x77),
        dgs=dgs,
        can=CAN,
        mrz_info=MRZ_INFO,
        pace_info=PACE_INFO if card_access is not None else None,
        ca_private_key=CA_KEY,
        ca_protocol="0.4.0.127.0.7.2.2.3.2.2",
        aa_private_key=aa_key,
    )


def chip(rng: Callable[[int], bytes] | None = None, /, **options: object) -> Chip:
    opts = ChipOptions(**options)  # type: ignore[arg-type]
    f = files(dg2_size=40_000 if opts.extended_length else 15_000)
    return Chip(f, opts) if rng is None else Chip(f, opts, rng=rng)


def send(c: Chip, apdu: str | bytes) -> ResponseAPDU:
    raw = h(apdu.replace(" ", "")) if isinstance(apdu, str) else apdu
    return ResponseAPDU.parse(c.process(raw))


def channel_for(c: Chip) -> CardChannel:
    return CardChannel(SimulatedTransport(c))


def with_bac(c: Chip) -> CardChannel:
    ch = channel_for(c)
    assert send(c, "00A4040C07A0000002471001").sw == 0x9000
    bac(ch, MRZ_INFO)
    return ch


def with_pace(c: Chip, password: PacePassword | None = None) -> CardChannel:
    ch = channel_for(c)
    pace(ch, password or PacePassword.from_can(CAN), PACE_INFO)
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, h("A0000002471001"))).sw == 0x9000
    return ch


def read_all(ch: CardChannel, sfi: int, ne: int = 0xDF) -> bytes:
    """Read a whole file with even READ BINARY under the channel's SM."""
    first = ch.send(CommandAPDU(0x00, 0xB0, 0x80 | sfi, 0, ne=ne))
    assert first.sw in (0x9000, 0x6282), hex(first.sw)
    total = tlv.total_length(first.data[:8])
    data = bytearray(first.data)
    while len(data) < total:
        off = len(data)
        resp = ch.send(CommandAPDU(0x00, 0xB0, off >> 8, off & 0xFF, ne=min(ne, total - off)))
        assert resp.sw == 0x9000, hex(resp.sw)
        data += resp.data
    return bytes(data)


def pinned(*values: bytes) -> Callable[[int], bytes]:
    it = iter(values)

    def rng(n: int) -> bytes:
        v = next(it)
        assert len(v) == n
        return v

    return rng


# ---- ICAO 9303-11 D.3 + D.4, byte for byte ------------------------------------------------


def test_icao_d3_d4_exact_bytes_through_the_chip() -> None:
    c = Chip(
        files(),
        rng=pinned(h("4608F91988702212"), h("0B4F80323EB3191CB04970CB4052790B")),
    )
    assert send(c, "00A4040C07A0000002471001").sw == 0x9000
    assert c.process(h("0084000008")) == h("4608F919887022129000")
    mutual = (
        "0082000028"
        "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
        "5F1448EEA8AD90A7"
        "28"
    )
    assert c.process(h(mutual)) == h(
        "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D74499000"
    )
    assert c.access == "bac"
    assert c.process(h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")) == h(
        "990290008E08FA855A5D4C50A8ED9000"
    )
    assert c.process(h("0CB000000D9701048E08ED6705417E96BA5500")) == h(
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"
    )


# ---- file system before access control -----------------------------------------------------


def test_select_mf_is_not_supported_like_a_cccd() -> None:
    assert send(chip(), "00A4000C023F00").sw == 0x6D00


def test_card_access_by_fid_and_by_short_ef_id() -> None:
    c = chip()
    assert send(c, "00A4020C02011C").sw == 0x9000
    r = send(c, "00B0000000")
    assert (r.data, r.sw) == (CARD_ACCESS, 0x6282)  # shorter than Le=256: end of file
    r = send(c, "00B09C0000")
    assert r.data == CARD_ACCESS
    r = send(c, f"00B09C00{len(CARD_ACCESS):02X}")
    assert (r.data, r.sw) == (CARD_ACCESS, 0x9000)
    r = send(c, "00B0000504")
    assert (r.data, r.sw) == (CARD_ACCESS[5:9], 0x9000)


def test_bac_only_chip_has_no_card_access() -> None:
    c = chip(mode="bac")
    assert send(c, "00A4020C02011C").sw == 0x6A82
    assert send(c, "00B09C0000").sw == 0x6A82
    assert send(c, "0022C1A40F800A04007F00070202040202830102").sw == 0x6D00


def test_select_application() -> None:
    c = chip()
    assert send(c, "00A4040C07A0000002471099").sw == 0x6A82
    r = send(c, "00A4040007A000000247100100")
    assert r.sw == 0x9000 and r.data == h("6F0984 07A0000002471001".replace(" ", ""))
    assert send(c, "00A4040C07A0000002471001").sw == 0x9000


def test_application_files_need_access_control() -> None:
    c = chip()
    assert send(c, "00A4040C07A0000002471001").sw == 0x9000
    assert send(c, "00A4020C02011E").sw == 0x9000  # the file exists ...
    assert send(c, "00B0000000").sw == 0x6982  # ... but cannot be read
    assert send(c, "00B0810000").sw == 0x6982  # DG1 by short EF id
    assert send(c, "00B10000035401000A").sw == 0x6982  # odd INS too
    assert send(c, "00A4020C02010B").sw == 0x6A82  # DG11 absent


def test_status_words_for_bad_commands() -> None:
    c = chip()
    assert send(c, "00CA000000").sw == 0x6D00  # GET DATA: not supported
    assert send(c, "80A4020C02011C").sw == 0x6E00  # proprietary class
    assert send(c, "00A4080C02011C").sw == 0x6A86  # select by path
    assert send(c, "00A40277 02011C".replace(" ", "")).sw == 0x6A86  # bad P2
    assert send(c, "00A4020C03011C00").sw == 0x6700  # 3-byte FID
    assert send(c, "0084000004").sw == 0x6700  # challenge of 4 bytes
    assert send(c, "0084010008").sw == 0x6A86
    assert send(c, "00B0000000").sw == 0x6986  # no current EF
    assert send(c, "00B0E00000").sw == 0x6A86  # SFI with bits 6-7 set
    assert send(c, "00B0").sw == 0x6700  # shorter than a header
    assert send(c, "00A4020C05011C").sw == 0x6700  # Lc says 5, 2 bytes follow


def test_extended_apdu_refused_unless_enabled() -> None:
    ext_read = "00B09C00000400"  # extended Le = 1024
    assert send(chip(), ext_read).sw == 0x6700
    r = send(chip(extended_length=True), ext_read)
    assert (r.data, r.sw) == (CARD_ACCESS, 0x6282)


def test_offsets_past_the_end() -> None:
    c = chip()
    n = len(CARD_ACCESS)
    assert send(c, "00A4020C02011C").sw == 0x9000
    assert send(c, f"00B000{n:02X}10").sw == 0x6B00
    assert send(c, f"00B000{n + 40:02X}10").sw == 0x6B00
    r = send(c, f"00B000{n - 3:02X}10")
    assert (r.data, r.sw) == (CARD_ACCESS[-3:], 0x6282)


def test_get_challenge_uses_the_injected_rng_and_counts_apdus() -> None:
    c = chip(pinned(h("0102030405060708")))
    r = send(c, "0084000008")
    assert (r.data, r.sw) == (h("0102030405060708"), 0x9000)
    send(c, "00A4000C023F00")
    assert c.apdu_count == 2


# ---- access control -------------------------------------------------------------------------


def test_bac_gives_access_and_sm_reads_files() -> None:
    c = chip()
    ch = with_bac(c)
    assert c.access == "bac"
    assert read_all(ch, 0x1E) == EF_COM
    assert read_all(ch, 0x01) == c.files.dgs[1]
    assert read_all(ch, 0x0D) == c.files.dgs[13]


def test_bac_wrong_key_answers_6300_and_counts() -> None:
    c = chip()
    ch = channel_for(c)
    send(c, "00A4040C07A0000002471001")
    with pytest.raises(AccessDenied):
        bac(ch, "L898902C<369080619406237")
    assert c.failed_access == 1 and c.access is None
    assert send(c, "00B0810000").sw == 0x6982


def test_mutual_authenticate_without_challenge_or_with_bad_length() -> None:
    c = chip()
    assert send(c, "0082000028" + "00" * 40 + "28").sw == 0x6985
    assert send(c, "0082000010" + "00" * 16 + "28").sw == 0x6700


@pytest.mark.parametrize("password", ["can", "mrz"])
def test_pace_with_can_or_mrz_gives_access(password: str) -> None:
    c = chip()
    pw = PacePassword.from_can(CAN) if password == "can" else PacePassword.from_mrz(MRZ_INFO)
    ch = with_pace(c, pw)
    assert c.access == "pace" and ch.sm is not None and ch.sm.kind is Cipherkind.AES
    assert read_all(ch, 0x1E) == EF_COM
    assert read_all(ch, 0x0F) == c.files.dgs[15]


def test_pace_wrong_can_is_denied_and_counted() -> None:
    c = chip()
    with pytest.raises(AccessDenied):
        with_pace(c, PacePassword.from_can("654321"))
    assert c.failed_access == 1 and c.access is None


def test_pace_only_chip_refuses_bac() -> None:
    c = chip(mode="pace")
    send(c, "00A4040C07A0000002471001")
    r = send(c, "0082000028" + "00" * 40 + "28")
    assert r.sw == 0x6982
    c = chip(mode="pace", bac_refused_sw=0x6D00)
    assert send(c, "0082000028" + "00" * 40 + "28").sw == 0x6D00
    with_pace(chip(mode="pace"))  # PACE still works


def test_bac_only_chip_refuses_pace_but_does_bac() -> None:
    c = chip(mode="bac")
    assert send(c, "008600000400000000").sw == 0x6D00
    with_bac(c)
    assert c.access == "bac"


# ---- protected reads: DG3, absent DGs, odd INS, lengths --------------------------------------


def test_dg3_is_protected_and_dg11_absent_under_sm() -> None:
    ch = with_pace(chip())
    assert ch.send(CommandAPDU(0x00, 0xB0, 0x83, 0, ne=16)).sw == 0x6982
    assert ch.send(CommandAPDU(0x00, 0xB0, 0x8B, 0, ne=16)).sw == 0x6A82
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("010C"))).sw == 0x6A82
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("0103"))).sw == 0x9000
    assert ch.send(CommandAPDU(0x00, 0xB0, 0, 0, ne=16)).sw == 0x6982


def test_sm_reply_must_fit_a_short_apdu() -> None:
    c = chip()
    ch = with_pace(c)
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x82, 0, ne=256))
    assert r.sw == 0x6CDF  # AES: 223 plaintext bytes fit a 256-byte protected reply
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x82, 0, ne=0xDF))
    assert (r.sw, r.data) == (0x9000, c.files.dgs[2][:0xDF])


def test_odd_read_binary_above_32767_on_a_big_dg2() -> None:
    c = chip(extended_length=True)
    dg2 = c.files.dgs[2]
    assert len(dg2) == 40_000
    ch = with_pace(c)
    assert ch.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("0102"))).sw == 0x9000
    for offset in (32_767, 32_768, 39_000):
        do54 = tlv.encode(0x54, offset.to_bytes(3, "big"))
        r = ch.send(CommandAPDU(0x00, 0xB1, 0, 0, do54, ne=1004))
        obj, rest = tlv.decode_prefix(r.data)
        assert obj.tag == 0x53 and rest == b""
        assert obj.value == dg2[offset : offset + len(obj.value)]
        assert len(obj.value) == min(1000, len(dg2) - offset)
        assert r.sw == (0x9000 if offset + 1000 <= len(dg2) else 0x6282)
    past = tlv.encode(0x54, (40_000).to_bytes(3, "big"))
    assert ch.send(CommandAPDU(0x00, 0xB1, 0, 0, past, ne=100)).sw == 0x6B00
    assert ch.send(CommandAPDU(0x00, 0xB1, 0, 0, h("5501"), ne=100)).sw == 0x6A80
    assert ch.send(CommandAPDU(0x00, 0xB1, 0, 0, ne=100)).sw == 0x6700


def test_extended_read_under_sm() -> None:
    c = chip(extended_length=True)
    ch = with_pace(c)
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x82, 0, ne=4096), extended=True)
    assert (r.sw, r.data) == (0x9000, c.files.dgs[2][:4096])


def test_even_read_binary_reaches_offset_32767() -> None:
    c = chip(extended_length=True)
    ch = with_pace(c)
    ch.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("0102")))
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x7F, 0xFF, ne=16))
    assert r.data == c.files.dgs[2][32_767 : 32_767 + 16]


@pytest.mark.parametrize("style", [0x6C00, 0x6700])
def test_max_read_limit(style: int) -> None:
    c = chip(max_read=0xDF, max_read_sw=style)
    ch = with_bac(c)
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x82, 0, ne=0xE7))
    assert r.sw == (0x6CDF if style == 0x6C00 else 0x6700)
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x82, 0, ne=0xDF))
    assert r.sw == 0x9000 and len(r.data) == 0xDF
    # Near the end of a file the 6Cxx names what is left.
    size = len(c.files.dgs[15])
    off = size - 10
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x8F, off, ne=0xE0))
    assert r.sw == (0x6C0A if style == 0x6C00 else 0x6700)


# ---- SM errors and plain errors --------------------------------------------------------------


def test_bad_mac_ends_the_session_with_plain_6988() -> None:
    c = chip()
    ch = with_pace(c)
    assert ch.sm is not None
    protected = ch.sm.protect(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16), False)
    raw = bytearray(protected.to_bytes())
    raw[-3] ^= 0x01  # flip a MAC bit
    assert c.process(bytes(raw)) == h("6988")
    assert c.access is None and c.sm is None
    assert send(c, "00B0810010").sw == 0x6982


def test_plain_command_inside_a_session_ends_it() -> None:
    c = chip()
    with_bac(c)
    assert send(c, "00B0810010").sw == 0x6988
    assert c.access is None


def test_errors_are_protected_by_default() -> None:
    c = chip()
    ch = with_pace(c)
    raw = ch.sm.protect(CommandAPDU(0x00, 0xB0, 0x8B, 0, ne=16), False)  # type: ignore[union-attr]
    reply = c.process(raw.to_bytes())
    assert len(reply) > 2 and reply[-2:] == h("6A82")  # DO'99' + DO'8E'


def test_plain_errors_keep_the_session_in_step() -> None:
    c = chip(plain_errors=True)
    ch = with_pace(c)
    sm = ch.sm
    assert sm is not None
    ssc = sm.ssc
    raw = sm.protect(CommandAPDU(0x00, 0xB0, 0x8B, 0, ne=16), False)
    reply = c.process(raw.to_bytes())
    assert reply == h("6A82")  # bare status word
    assert sm.unprotect(ResponseAPDU.parse(reply)).sw == 0x6A82
    assert sm.ssc == ssc + 2
    # The next protected exchange still verifies on both sides.
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16))
    assert (r.sw, r.data) == (0x9000, c.files.dgs[1][:16])
    # 6Cxx and 6B00 come plain too.
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x81, 200, ne=16))
    assert r.sw == 0x6B00


def test_extended_apdu_refused_under_sm_keeps_ssc_in_step() -> None:
    c = chip()
    ch = with_pace(c)
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16), extended=True)
    assert r.sw == 0x6700
    assert ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16)).sw == 0x9000


def test_wrong_mac_from_the_chip_is_caught_by_the_reader() -> None:
    c = chip()
    ch = with_pace(c)
    assert ch.sm is not None
    ch.sm.ssc += 1  # reader out of step
    with pytest.raises(SecureMessagingError):
        ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16))


# ---- card removal -----------------------------------------------------------------------------


def test_removal_raises_card_removed_and_insert_powers_up() -> None:
    c = chip()
    t = SimulatedTransport(c)
    with_bac(c)
    c.remove()
    with pytest.raises(CardRemoved):
        t.transmit(h("00A4040C07A0000002471001"))
    c.insert()
    assert c.access is None and c.sm is None
    # Powered up again: the application is no longer selected, so DG1 is not visible.
    assert t.transmit(h("00B0810010")) == h("6A82")


def test_scheduled_removal() -> None:
    c = chip()
    c.remove_after(2)
    send(c, "00A4020C02011C")
    send(c, "00B09C0000")
    with pytest.raises(CardRemoved):
        c.process(h("00B09C0000"))
    assert c.removed


# ---- Chip Authentication and Active Authentication -------------------------------------------


def test_chip_authentication_switches_to_new_keys() -> None:
    c = chip()
    ch = with_bac(c)
    curve = CA_KEY.curve
    eph = ec.generate_private_key(curve)
    point = eph.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    oid = h("060A04007F00070202030202")[2:]
    assert ch.send(CommandAPDU(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, oid))).sw == 0x9000
    r = ch.send(CommandAPDU(0x00, 0x86, 0, 0, tlv.encode(0x7C, tlv.encode(0x80, point)), ne=256))
    assert r.sw == 0x9000 and c.chip_authenticated
    shared = eph.exchange(ec.ECDH(), CA_KEY.public_key())
    ch.sm = SecureMessaging(
        Cipherkind.AES,
        kdf(shared, KDF_ENC, Cipherkind.AES),
        kdf(shared, KDF_MAC, Cipherkind.AES),
        0,
    )
    r = ch.send(CommandAPDU(0x00, 0xB0, 0x81, 0, ne=16))
    assert (r.sw, r.data) == (0x9000, c.files.dgs[1][:16])


def test_active_authentication_ec() -> None:
    c = chip()
    ch = with_pace(c)
    nonce = h("0011223344556677")
    r = ch.send(CommandAPDU(0x00, 0x88, 0, 0, nonce, ne=256))
    assert r.sw == 0x9000 and len(r.data) == 64
    sig = encode_dss_signature(int.from_bytes(r.data[:32]), int.from_bytes(r.data[32:]))
    AA_EC_KEY.public_key().verify(sig, nonce, ec.ECDSA(hashes.SHA256()))


def test_active_authentication_rsa_iso9796_2(rsa_key: rsa.RSAPrivateKey) -> None:
    nonce = h("8877665544332211")
    sig = aa_sign_rsa(rsa_key, nonce)
    pub = rsa_key.public_key().public_numbers()
    f = pow(int.from_bytes(sig), pub.e, pub.n).to_bytes(256)
    assert f[0] == 0x6A and f[-1] == 0xBC
    m1, digest = f[1:-21], f[-21:-1]
    assert digest == hashlib.sha1(m1 + nonce).digest()
    # Through the chip with a short Le: the protected reply exceeds 256 bytes, so the chip
    # sends 256 bytes with 61xx and the rest on GET RESPONSE (ISO/IEC 7816-4 §5.3.4).
    c = Chip(files(aa_key=rsa_key), ChipOptions(extended_length=True))
    ch = with_pace(c)
    sm = ch.sm
    assert sm is not None
    wire = sm.protect(CommandAPDU(0x00, 0x88, 0, 0, nonce, ne=256), False).to_bytes()
    first = c.process(wire)
    assert first[-2] == 0x61 and len(first) == 258
    rest = c.process(bytes((0x00, 0xC0, 0x00, 0x00, first[-1])))
    assert rest[-2:] == b"\x90\x00"
    reply = sm.unprotect(ResponseAPDU.parse(first[:-2] + rest))
    assert reply.sw == 0x9000 and len(reply.data) == 256
    assert c.process(bytes((0x00, 0xC0, 0x00, 0x00, 0x00)))[-2:] == b"\x69\x85"
    r = ch.send(CommandAPDU(0x00, 0x88, 0, 0, nonce, ne=256), extended=True)
    assert r.sw == 0x9000 and len(r.data) == 256


def test_active_authentication_needs_access() -> None:
    assert send(chip(), "0088000008001122334455667700").sw == 0x6982


def test_atr_has_a_correct_check_byte() -> None:
    atr = chip().atr
    assert atr[:2] == h("3B80") and atr[2:4] == h("8001")
    tck = 0
    for b in atr[1:]:
        tck ^= b
    assert tck == 0  # XOR of T0..TCK is zero (ISO/IEC 7816-3)
