"""BAC: ICAO 9303-11 Appendix D.2/D.3 bytes on the reader side and the chip side, and failures."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.bac import (
    bac,
    derive_bac_keys,
    key_seed,
    mrz_information,
    mutual_authenticate_data,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import (
    AccessDenied,
    AccessKeyError,
    AuthenticationError,
    EmrtdError,
    StatusError,
)
from kiosk.emrtd.sm import SecureMessaging
from kiosk.transport import CardRemoved
from simulators.card.bac import BacChip
from tests.fixtures.replay import ReplayTransport

h = bytes.fromhex

# ICAO 9303-11 Appendix D.2
MRZ_INFO = "L898902C<369080619406236"
K_SEED = h("239AB9CB282DAF66231DC5A4DF6BFBAE")
K_ENC = h("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = h("7962D9ECE03D1ACD4C76089DCE131543")
# Appendix D.3
RND_IC = h("4608F91988702212")
RND_IFD = h("781723860C06C226")
K_IFD = h("0B795240CB7049B01C19B33E32804F0B")
K_IC = h("0B4F80323EB3191CB04970CB4052790B")
CMD_DATA = h(
    "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"  # E.IFD
    "5F1448EEA8AD90A7"  # M.IFD
)
RESP_DATA = h(
    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"  # E.IC
    "2F2D235D074D7449"  # M.IC
)
KS_ENC = h("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = h("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226

GET_CHALLENGE = h("0084000008")
MUTUAL_AUTH = h("0082000028") + CMD_DATA + h("28")


def d3_exchanges() -> list[tuple[bytes, bytes]]:
    return [(GET_CHALLENGE, RND_IC + h("9000")), (MUTUAL_AUTH, RESP_DATA + h("9000"))]


# -- D.2: MRZ information and keys --------------------------------------------------


def test_d2_mrz_information_and_keys() -> None:
    assert mrz_information("L898902C", "690806", "940623") == MRZ_INFO
    assert mrz_information("L898902C<", "690806", "940623") == MRZ_INFO
    assert key_seed(MRZ_INFO) == K_SEED
    assert derive_bac_keys(MRZ_INFO) == (K_ENC, K_MAC)


def test_long_document_number_is_used_whole() -> None:
    assert mrz_information("D23145890734", "340712", "950712") == "D23145890734934071279507122"


def test_cccd_mrz_information() -> None:
    # MRZ of a chip CCCD (reference sheet): doc 093047064 cd 1, 930105 cd 4, 330105 cd 2.
    assert mrz_information("093047064", "930105", "330105") == "093047064193010543301052"
    assert mrz_information(" l898902c ", "690806", "940623") == MRZ_INFO


@pytest.mark.parametrize(
    ("doc", "dob", "doe", "field"),
    [
        ("", "690806", "940623", "document_number"),
        ("L898-902C", "690806", "940623", "document_number"),
        ("L898902C", "6908", "940623", "date_of_birth"),
        ("L898902C", "690806", "9406231", "date_of_expiry"),
        ("L898902C", "69O8O6", "940623", None),  # letters are MRZ characters: allowed
        ("L898902C", "69.806", "940623", "date_of_birth"),
    ],
)
def test_mrz_information_rejects_unusable_fields(
    doc: str, dob: str, doe: str, field: str | None
) -> None:
    if field is None:
        assert len(mrz_information(doc, dob, doe)) == 24
        return
    with pytest.raises(AccessKeyError) as err:
        mrz_information(doc, dob, doe)
    assert err.value.field == field


# -- D.3 reader side ------------------------------------------------------------------


def test_d3_reader_side_exact_bytes() -> None:
    transport = ReplayTransport(d3_exchanges())
    channel = CardChannel(transport)
    sm = bac(channel, MRZ_INFO, rnd_ifd=RND_IFD, k_ifd=K_IFD)
    assert transport.done
    assert channel.sm is sm
    assert (sm.kind, sm.ks_enc, sm.ks_mac, sm.ssc) == (Cipherkind.DES3, KS_ENC, KS_MAC, SSC)
    assert channel.apdu_count == 2


def test_d3_then_d4_over_one_channel() -> None:
    d4 = [
        (
            h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"),
            h("990290008E08FA855A5D4C50A8ED9000"),
        ),
        (
            h("0CB000000D9701048E08ED6705417E96BA5500"),
            h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"),
        ),
    ]
    transport = ReplayTransport(d3_exchanges() + d4)
    channel = CardChannel(transport)
    bac(channel, mrz_information("L898902C", "690806", "940623"), rnd_ifd=RND_IFD, k_ifd=K_IFD)
    assert channel.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("011E"))).sw == 0x9000
    assert channel.send(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)).data == h("60145F01")
    assert transport.done


# -- D.3 chip side --------------------------------------------------------------------


def pinned(*values: bytes) -> Callable[[int], bytes]:
    """A random source that returns ``values`` in order (checking the requested sizes)."""
    it = iter(values)

    def rng(n: int) -> bytes:
        v = next(it)
        assert len(v) == n
        return v

    return rng


def test_d3_chip_side_exact_bytes() -> None:
    chip = BacChip(K_ENC, K_MAC, rng=pinned(RND_IC))
    assert chip.get_challenge() == RND_IC
    reply, sm = chip.mutual_authenticate(CMD_DATA, k_ic=K_IC)
    assert reply == RESP_DATA
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (KS_ENC, KS_MAC, SSC)


def test_d3_chip_draws_k_ic_from_its_rng() -> None:
    chip = BacChip.from_mrz_information(MRZ_INFO, rng=pinned(RND_IC, K_IC))
    chip.get_challenge()
    assert chip.mutual_authenticate(CMD_DATA)[0] == RESP_DATA


def test_reader_pieces_match_d3() -> None:
    assert mutual_authenticate_data(K_ENC, K_MAC, RND_IFD + RND_IC, K_IFD) == CMD_DATA


# -- reader against the simulated chip ----------------------------------------------


class ChipTransport:
    """A minimal in-test chip: BAC via BacChip, then SM-protected echo of READ BINARY."""

    max_command_len = 261
    max_response_len = 258
    extended_length = False

    def __init__(self, chip: BacChip, *, error_sw: int = 0x6300) -> None:
        self.chip = chip
        self.sm: SecureMessaging | None = None
        self.error_sw = error_sw
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        cmd = CommandAPDU.parse(apdu)
        if cmd.ins == 0x84:
            return self.chip.get_challenge() + h("9000")
        if cmd.ins == 0x82:
            try:
                reply, self.sm = self.chip.mutual_authenticate(cmd.data)
            except AccessDenied:
                return self.error_sw.to_bytes(2, "big")
            return reply + h("9000")
        assert self.sm is not None
        plain = self.sm.unprotect_command(cmd)
        data = bytes(range(plain.ne or 0))
        return self.sm.protect_response(ResponseAPDU(data, 0x9000)).to_bytes()

    def close(self) -> None:
        pass


def test_reader_and_chip_agree_with_random_values() -> None:
    transport = ChipTransport(BacChip.from_mrz_information(MRZ_INFO))
    channel = CardChannel(transport)
    sm = bac(channel, MRZ_INFO)
    assert transport.sm is not None
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (
        transport.sm.ks_enc,
        transport.sm.ks_mac,
        transport.sm.ssc,
    )
    assert channel.send(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=100)).data == bytes(range(100))
    assert sm.ssc == transport.sm.ssc


@pytest.mark.parametrize("sw", [0x6300, 0x6982])
def test_wrong_mrz_is_access_denied(sw: int) -> None:
    chip = BacChip.from_mrz_information(mrz_information("L898902C", "690806", "940624"))
    channel = CardChannel(ChipTransport(chip, error_sw=sw))
    with pytest.raises(AccessDenied, match="MRZ"):
        bac(channel, MRZ_INFO)
    assert channel.sm is None


def test_reply_under_another_key_is_access_denied() -> None:
    # A chip that answers 9000 with data made under other keys: the MAC fails.
    other_enc, other_mac = derive_bac_keys(mrz_information("X1234567", "010101", "300101"))
    bogus = mutual_authenticate_data(other_enc, other_mac, RND_IC + RND_IFD, K_IC)
    transport = ReplayTransport([*d3_exchanges()[:1], (MUTUAL_AUTH, bogus + h("9000"))])
    with pytest.raises(AccessDenied, match="MRZ"):
        bac(CardChannel(transport), MRZ_INFO, rnd_ifd=RND_IFD, k_ifd=K_IFD)


def test_reply_with_wrong_nonces_is_an_authentication_error() -> None:
    # Right keys (MAC verifies) but the chip returns someone else's RND.IFD: a replay.
    replayed = mutual_authenticate_data(K_ENC, K_MAC, RND_IC + bytes(8), K_IC)
    transport = ReplayTransport([*d3_exchanges()[:1], (MUTUAL_AUTH, replayed + h("9000"))])
    with pytest.raises(AuthenticationError, match="RND"):
        bac(CardChannel(transport), MRZ_INFO, rnd_ifd=RND_IFD, k_ifd=K_IFD)


@pytest.mark.parametrize(
    ("exchanges", "error"),
    [
        ([(GET_CHALLENGE, h("6D00"))], StatusError),
        ([(GET_CHALLENGE, RND_IC[:4] + h("9000"))], AuthenticationError),
        ([(GET_CHALLENGE, RND_IC + h("9000")), (MUTUAL_AUTH, h("6A80"))], StatusError),
        ([(GET_CHALLENGE, RND_IC + h("9000")), (MUTUAL_AUTH, h("6985"))], StatusError),
        (
            [(GET_CHALLENGE, RND_IC + h("9000")), (MUTUAL_AUTH, RESP_DATA[:-1] + h("9000"))],
            AuthenticationError,
        ),
    ],
)
def test_protocol_failures(exchanges: list[tuple[bytes, bytes]], error: type[EmrtdError]) -> None:
    with pytest.raises(error) as err:
        bac(CardChannel(ReplayTransport(exchanges)), MRZ_INFO, rnd_ifd=RND_IFD, k_ifd=K_IFD)
    assert not isinstance(err.value, AccessDenied)


def test_bad_pins_are_rejected() -> None:
    with pytest.raises(AuthenticationError):
        bac(CardChannel(ReplayTransport([])), MRZ_INFO, rnd_ifd=bytes(7))


def test_bac_runs_in_plain_and_replaces_an_old_session() -> None:
    transport = ReplayTransport(d3_exchanges())
    channel = CardChannel(transport)
    old = SecureMessaging(Cipherkind.AES, bytes(16), bytes(16))
    channel.sm = old
    sm = bac(channel, MRZ_INFO, rnd_ifd=RND_IFD, k_ifd=K_IFD)
    assert channel.sm is sm is not old


def test_card_removed_propagates() -> None:
    class Gone(ChipTransport):
        def transmit(self, apdu: bytes) -> bytes:
            raise CardRemoved("card left the field")

    with pytest.raises(CardRemoved):
        bac(CardChannel(Gone(BacChip(K_ENC, K_MAC))), MRZ_INFO)


# -- chip-side failures ---------------------------------------------------------------


def test_chip_without_challenge_is_an_authentication_error() -> None:
    chip = BacChip(K_ENC, K_MAC)
    with pytest.raises(AuthenticationError):
        chip.mutual_authenticate(CMD_DATA)


def test_chip_challenge_is_one_shot() -> None:
    chip = BacChip(K_ENC, K_MAC, rng=pinned(RND_IC, RND_IC))
    chip.get_challenge()
    chip.mutual_authenticate(CMD_DATA, k_ic=K_IC)
    with pytest.raises(AuthenticationError):
        chip.mutual_authenticate(CMD_DATA, k_ic=K_IC)
    # A failed attempt also uses the challenge up.
    chip.get_challenge()
    with pytest.raises(AccessDenied):
        chip.mutual_authenticate(CMD_DATA[:-1] + b"\x00", k_ic=K_IC)
    with pytest.raises(AuthenticationError):
        chip.mutual_authenticate(CMD_DATA, k_ic=K_IC)


def test_chip_rejects_a_stale_challenge_and_wrong_key() -> None:
    counter = itertools.count()
    chip = BacChip(K_ENC, K_MAC, rng=lambda n: bytes([next(counter)]) * n)
    chip.get_challenge()  # RND.IC 00.., but the reader answers the D.3 RND.IC
    with pytest.raises(AccessDenied, match=r"RND\.IC"):
        chip.mutual_authenticate(CMD_DATA)
    other = BacChip.from_mrz_information(mrz_information("L898902C", "690806", "940624"))
    other.get_challenge()
    with pytest.raises(AccessDenied):
        other.mutual_authenticate(CMD_DATA)


def test_chip_rejects_wrong_length() -> None:
    chip = BacChip(K_ENC, K_MAC, rng=pinned(RND_IC))
    chip.get_challenge()
    with pytest.raises(AuthenticationError):
        chip.mutual_authenticate(CMD_DATA + b"\x00")


def test_random_values_come_from_os_urandom_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake(n: int) -> bytes:
        calls.append(n)
        return bytes(n)

    monkeypatch.setattr("os.urandom", fake)  # the chip keeps its own bound default
    transport = ChipTransport(BacChip.from_mrz_information(MRZ_INFO))
    bac(CardChannel(transport), MRZ_INFO)
    assert sorted(calls) == [8, 16]
