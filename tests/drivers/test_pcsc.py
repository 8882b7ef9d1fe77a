"""drivers/pcsc.py: the transport's APDU handling against a fake pyscard connection, and
(marker ``pcsc``) the real thing — pyscard → private pcscd → vpcd → the software chip:
full reads, the removal matrix, a reader vanishing mid-read, pcscd restarting, two readers."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from smartcard.Exceptions import CardConnectionException, NoCardException

from drivers import pcsc
from drivers.simulated import open_simulated
from kiosk.cccd import access
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.session import ReaderSession
from kiosk.transport import CardRemoved, Transport, TransportError, TransportTimeout
from simulators.card.personalize import make_chip
from simulators.card.profile import list_profiles, load_profile
from simulators.vpcd import VpcdCard
from tests.fixtures.pcscd import Pcscd, call_with_timeout

DEFAULT_KEY = access.key_from_id("001088034517")
READER0 = "Virtual PCD 00 00"
READER1 = "Virtual PCD 00 01"


# ---- a fake pyscard connection ---------------------------------------------------------


class FakeConnection:
    """Answers APDUs with ``answer(apdu) -> bytes`` and records what it was sent."""

    def __init__(
        self,
        answer: Callable[[bytes], bytes],
        *,
        refuse: dict[int, Exception] | None = None,
        atr: bytes = b"\x3b\x80\x80\x01\x01",
    ) -> None:
        self.answer = answer
        self.refuse = refuse or {}
        self.atr = atr
        self.sent: list[bytes] = []
        self.protocols: list[int | None] = []
        self.disposition = 2
        self.reconnects = 0
        self.disconnected = False

    def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        self.protocols.append(protocol)
        if protocol in self.refuse:
            raise self.refuse[protocol]

    def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        self.reconnects += 1

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]:
        apdu = bytes(command)
        self.sent.append(apdu)
        reply = self.answer(apdu)
        return list(reply[:-2]), reply[-2], reply[-1]

    def getATR(self) -> list[int]:
        return list(self.atr)

    def disconnect(self) -> None:
        self.disconnected = True


def _transport(conn: FakeConnection, **kw: object) -> pcsc.PcscTransport:
    return pcsc.PcscTransport("Fake Reader 00", connection_factory=lambda _: conn, **kw)  # type: ignore[arg-type]


def test_satisfies_the_transport_protocol() -> None:
    t = _transport(FakeConnection(lambda a: b"\x90\x00"), extended_length=False)
    assert isinstance(t, Transport)
    assert (t.max_command_len, t.max_response_len) == (261, 258)


def test_get_response_collects_61xx_chunks() -> None:
    chunks = [b"A" * 0x10 + b"\x61\x08", b"B" * 8 + b"\x61\x03", b"CCC\x90\x00"]

    def answer(apdu: bytes) -> bytes:
        return chunks.pop(0) if apdu[1] in (0xB0, 0xC0) else b"\x6d\x00"

    conn = FakeConnection(answer)
    t = _transport(conn, extended_length=False)
    assert t.transmit(bytes.fromhex("00B0000000")) == b"A" * 16 + b"B" * 8 + b"CCC\x90\x00"
    assert conn.sent[1:] == [bytes.fromhex("00C0000008"), bytes.fromhex("00C0000003")]
    assert t.apdu_count == 3


def test_get_response_loop_is_bounded() -> None:
    t = _transport(FakeConnection(lambda a: b"\x61\x01"), extended_length=False)
    with pytest.raises(TransportError, match="61xx"):
        t.transmit(bytes.fromhex("00B0000000"))


@pytest.mark.parametrize(
    ("apdu", "reissued"),
    [
        ("00B0000000", "00B0000012"),  # case 2: Le replaced
        ("00B00000", "00B0000012"),  # case 1: Le added
        ("0022C1A40380010A", "0022C1A40380010A12"),  # case 3: Le appended
        ("00A4040C03A0000400", "00A4040C03A0000412"),  # case 4: Le replaced
    ],
)
def test_6cxx_reissues_with_the_right_le(apdu: str, reissued: str) -> None:
    replies = [b"\x6c\x12", b"x" * 0x12 + b"\x90\x00"]
    conn = FakeConnection(lambda a: replies.pop(0))
    t = _transport(conn, extended_length=False)
    assert t.transmit(bytes.fromhex(apdu)) == b"x" * 0x12 + b"\x90\x00"
    assert conn.sent == [bytes.fromhex(apdu), bytes.fromhex(reissued)]


def test_6cxx_under_secure_messaging_is_left_to_the_reader() -> None:
    conn = FakeConnection(lambda a: b"\x6c\x12")
    t = _transport(conn, extended_length=False)
    assert t.transmit(bytes.fromhex("0CB000000D9701008E08" + "00" * 8 + "00")) == b"\x6c\x12"
    assert len(conn.sent) == 1  # re-issuing would break the SM MAC and counter


def test_with_le_leaves_extended_apdus_alone() -> None:
    assert pcsc.with_le(bytes.fromhex("00B00000000100"), 5) is None


def test_extended_probe_yes_no_and_second_probe() -> None:
    def chip(ext: bool, card_access: bool) -> Callable[[bytes], bytes]:
        def answer(apdu: bytes) -> bytes:
            if len(apdu) > 5 and apdu[4] == 0 and not ext:
                return b"\x67\x00"
            if apdu[1] == 0xB0:
                return b"1\x14\x30\x12\x90\x00" if card_access else b"\x6a\x82"
            if apdu[1] == 0x84:
                return b"r" * 8 + b"\x90\x00"
            return b"\x6d\x00"

        return answer

    assert _transport(FakeConnection(chip(True, True))).extended_length
    assert not _transport(FakeConnection(chip(False, True))).extended_length
    conn = FakeConnection(chip(True, False))
    t = _transport(conn)
    assert t.extended_length and t.max_response_len == 65538
    assert conn.sent == [pcsc.PROBE_READ_CARD_ACCESS, pcsc.PROBE_GET_CHALLENGE]
    assert not _transport(FakeConnection(chip(False, False))).extended_length


def test_reader_that_cannot_carry_extended_means_short_apdus() -> None:
    def answer(apdu: bytes) -> bytes:
        if len(apdu) > 5 and apdu[4] == 0:
            raise CardConnectionException("too long", hresult=pcsc.SCARD_E_INSUFFICIENT_BUFFER)
        return b"\x90\x00"

    t = _transport(FakeConnection(answer))
    assert not t.extended_length
    assert t.transmit(bytes.fromhex("00B0000000")) == b"\x90\x00"


def test_t1_then_t0() -> None:
    conn = FakeConnection(
        lambda a: b"\x90\x00",
        refuse={pcsc.T1: CardConnectionException("no", hresult=pcsc.SCARD_E_PROTO_MISMATCH)},
    )
    t = _transport(conn, extended_length=False)
    assert conn.protocols == [pcsc.T1, pcsc.T0] and t.protocol == pcsc.T0
    assert conn.reconnects == 1 and conn.disposition == pcsc.SCARD_LEAVE_CARD
    t.close()
    t.close()
    assert conn.disconnected
    with pytest.raises(TransportError, match="closed"):
        t.transmit(b"\x00\xb0\x00\x00\x00")


def test_no_card_at_connect_is_card_removed() -> None:
    conn = FakeConnection(
        lambda a: b"\x90\x00",
        refuse={pcsc.T1: NoCardException("no card", hresult=pcsc.SCARD_W_REMOVED_CARD)},
    )
    with pytest.raises(CardRemoved):
        _transport(conn)
    assert conn.protocols == [pcsc.T1]


@pytest.mark.parametrize(
    ("hresult", "expected"),
    [
        (0, CardRemoved),
        (0x80100016, CardRemoved),
        (0x80100069, CardRemoved),
        (0x8010000C, CardRemoved),
        (0x80100068, CardRemoved),
        (0x80100017, pcsc.ReaderGone),
        (0x80100013, pcsc.ReaderGone),
        (0x8010001D, pcsc.PcscUnavailable),
        (0x8010000A, TransportTimeout),
        (0x8010001F, TransportError),
    ],
)
def test_every_pyscard_error_maps_to_a_project_error(hresult: int, expected: type) -> None:
    def answer(apdu: bytes) -> bytes:
        raise CardConnectionException("boom", hresult=hresult)

    t = _transport(FakeConnection(answer), extended_length=False)
    with pytest.raises(TransportError) as info:
        t.transmit(bytes.fromhex("00B0000000"))
    assert type(info.value) is expected
    assert not isinstance(info.value, CardConnectionException)


def test_no_card_exception_and_negative_hresults_map() -> None:
    assert isinstance(pcsc.map_exception(NoCardException("x", hresult=-1)), CardRemoved)
    signed = 0x80100069 - (1 << 32)
    err = pcsc.map_exception(CardConnectionException("x", hresult=signed))
    assert isinstance(err, CardRemoved)
    assert type(pcsc.map_exception(ValueError("odd"))) is TransportError


def test_apdu_length_checks() -> None:
    t = _transport(FakeConnection(lambda a: b"\x90\x00"), extended_length=False)
    with pytest.raises(TransportError):
        t.transmit(b"\x00\xb0")
    with pytest.raises(TransportError, match="exceeds"):
        t.transmit(b"\x00\xd6\x00\x00\xff" + bytes(300))


# ---- the real thing: pyscard → pcscd → vpcd → Chip -------------------------------------


def _reference_files() -> dict[str, bytes]:
    return ReaderSession(open_simulated("default")).read([DEFAULT_KEY]).files


@pytest.fixture(scope="module")
def reference() -> dict[str, bytes]:
    """The files of the default card read in process (what pcscd must deliver too)."""
    return _reference_files()


@pytest.fixture
def card(running_pcscd: Pcscd) -> Iterator[VpcdCard]:
    """The default card in the first vpcd reader; pulled and pcscd told before the next test."""
    c = VpcdCard(make_chip("default"), port=running_pcscd.port).start()
    assert c.wait_connected(10), running_pcscd.log()
    pcsc.wait_for_card(READER0, timeout=10)
    yield c
    c.stop()
    if running_pcscd.running:
        pcsc.wait_for_removal(timeout=10)


def _read(reader: str | None = READER0) -> tuple[dict[str, bytes], int]:
    with pcsc.open_pcsc(reader) as t:
        result = ReaderSession(t).read([DEFAULT_KEY])
        return result.files, t.apdu_count


def _reinsert(c: VpcdCard) -> None:
    pcsc.wait_for_removal(READER0, timeout=10)
    c.insert()
    pcsc.wait_for_card(READER0, timeout=10)


@pytest.mark.pcsc
def test_list_readers_and_card_states(card: VpcdCard) -> None:
    assert pcsc.list_readers() == [READER0, READER1]
    assert pcsc.readers_with_card() == [READER0]
    with pcsc.open_pcsc() as t:  # no name: the first reader with a card
        assert t.reader == READER0
        assert t.atr == card.chip.atr
        assert t.protocol == pcsc.T1
        assert not t.extended_length  # the default card has no extended length
    with pytest.raises(pcsc.ReaderNotFound):
        pcsc.open_pcsc("no such reader")
    with pytest.raises(CardRemoved):
        pcsc.open_pcsc(READER1)  # empty reader


@pytest.mark.pcsc
def test_full_pace_read_through_pcscd_matches_in_process(
    card: VpcdCard, reference: dict[str, bytes]
) -> None:
    files, apdus = call_with_timeout(_read, 30)
    assert files == reference
    assert apdus == card.apdus  # one APDU on the wire per chip APDU (probe included)
    # the same card read again without lifting it: the reset at connect ends the old session
    files, _ = call_with_timeout(_read, 30)
    assert files == reference


@pytest.mark.pcsc
def test_extended_length_card_through_pcscd(running_pcscd: Pcscd) -> None:
    with VpcdCard(make_chip("big-photo"), port=running_pcscd.port).start() as c:
        pcsc.wait_for_card(READER0, timeout=10)
        with pcsc.open_pcsc(READER0) as t:
            assert t.extended_length and t.max_response_len == 65538
            expected = ReaderSession(open_simulated("big-photo")).read(
                [access.key_from_id("031085009214")]
            )
            result = call_with_timeout(
                lambda: ReaderSession(t).read([access.key_from_id("031085009214")]), 60
            )
            assert result.files == expected.files
        c.remove()
        pcsc.wait_for_removal(timeout=10)


def _pull_at_every_apdu(
    card: VpcdCard, reader: str, indices: list[int], reference: dict[str, bytes]
) -> list[str]:
    """For each APDU index: a read that loses the card there, then a full read after the
    next insert. Returns what went wrong (empty when every case behaved)."""
    problems: list[str] = []

    def read() -> tuple[dict[str, bytes], int]:
        return _read(reader)

    for index in indices:
        card.remove_after(index - 1)  # the index-th APDU of the next read finds no card
        try:
            call_with_timeout(read, 20)
            problems.append(f"APDU {index}: the read succeeded")
        except CardRemoved:
            pass
        except BaseException as exc:  # anything else (or a hang) is a failure
            problems.append(f"APDU {index}: {exc!r}")
        if card.inserted:
            problems.append(f"APDU {index}: the card never left")
            card.remove()
        pcsc.wait_for_removal(reader, timeout=10)
        card.insert()
        pcsc.wait_for_card(reader, timeout=10)
        try:
            files, _ = call_with_timeout(read, 30)
            if files != reference:
                problems.append(f"APDU {index}: the next read gave other files")
        except BaseException as exc:
            problems.append(f"APDU {index}: the next read failed: {exc!r}")
    return problems


def _best_key(name: str) -> access.AccessKey:
    """The CAN for PACE cards, the MRZ key for BAC-only ones."""
    profile = load_profile(name)
    if profile.chip.mode != "bac":
        return access.key_from_id(profile.id_number)
    mrz = dg1.parse(make_chip(name).files.dgs[1]).mrz
    return access.MRZKey(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry)


@pytest.mark.pcsc
@pytest.mark.parametrize("name", [n for n in list_profiles() if n != "default"])
def test_every_sample_card_reads_through_pcscd(running_pcscd: Pcscd, name: str) -> None:
    key = _best_key(name)
    expected = ReaderSession(open_simulated(name)).read([key])
    with VpcdCard(make_chip(name), port=running_pcscd.port).start() as c:
        pcsc.wait_for_card(READER0, timeout=10)

        def read() -> tuple[str, dict[str, bytes]]:
            with pcsc.open_pcsc(READER0) as t:
                result = ReaderSession(t).read([key])
                return result.access_protocol, result.files

        assert call_with_timeout(read, 60) == (expected.access_protocol, expected.files)
        c.remove()
        pcsc.wait_for_removal(READER0, timeout=10)


@pytest.mark.pcsc
def test_removal_matrix(running_pcscd: Pcscd, reference: dict[str, bytes]) -> None:
    """Pull the card at every APDU of a full PACE read: a clean CardRemoved every time, and
    the next insert reads the whole card again. The indices are shared between the two
    vpcd readers, run side by side (pcscd's 0.4 s presence polling dominates the time)."""
    cards = [
        VpcdCard(make_chip("default"), port=running_pcscd.port + slot).start() for slot in (0, 1)
    ]
    try:
        for reader in (READER0, READER1):
            pcsc.wait_for_card(reader, timeout=10)
        before = cards[0].apdus
        files, _ = call_with_timeout(_read, 30)
        assert files == reference
        count = cards[0].apdus - before
        assert count > 30  # PACE, CA, AA and every file: the whole read is covered
        results: list[list[str]] = [[], []]
        threads = [
            threading.Thread(
                target=lambda slot=slot: results[slot].extend(
                    _pull_at_every_apdu(
                        cards[slot],
                        (READER0, READER1)[slot],
                        list(range(1 + slot, count + 1, 2)),
                        reference,
                    )
                ),
                daemon=True,
            )
            for slot in (0, 1)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join(600)
            assert not th.is_alive(), "the removal matrix hung"
        assert results == [[], []]
    finally:
        for c in cards:
            c.stop()
        pcsc.wait_for_removal(timeout=10)


@pytest.mark.pcsc
def test_reader_gone_mid_read(running_pcscd: Pcscd) -> None:
    """pcscd (and with it the reader) vanishes while an APDU is in flight: a clean
    ReaderGone, no hang; the session can be opened again once pcscd is back."""
    in_flight = threading.Event()
    release = threading.Event()
    chip = make_chip("default")
    process = chip.process

    def slow_process(apdu: bytes) -> bytes:
        if chip.apdu_count == 12:
            in_flight.set()
            release.wait(10)
        return process(apdu)

    chip.process = slow_process  # type: ignore[method-assign]
    with VpcdCard(chip, port=running_pcscd.port).start():
        pcsc.wait_for_card(READER0, timeout=10)
        t = pcsc.open_pcsc(READER0)
        errors: queue.Queue[BaseException] = queue.Queue()

        def read() -> None:
            try:
                ReaderSession(t).read([DEFAULT_KEY])
            except BaseException as exc:
                errors.put(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert in_flight.wait(20)
        running_pcscd.kill()
        release.set()
        reader.join(20)
        assert not reader.is_alive(), "the read hung after pcscd vanished"
        err = errors.get_nowait()
        assert isinstance(err, pcsc.ReaderGone), repr(err)
        t.close()
        with pytest.raises(pcsc.PcscUnavailable):
            pcsc.list_readers()
        running_pcscd.start()
        pcsc.wait_for_card(READER0, timeout=10)  # the card reconnects to the new vpcd
        files, _ = call_with_timeout(_read, 30)
        assert files == _reference_files()


@pytest.mark.pcsc
def test_monitor_follows_cards_and_survives_a_pcscd_restart(card: VpcdCard, pcscd: Pcscd) -> None:
    events: queue.Queue[pcsc.ReaderEvent] = queue.Queue()

    def until(kind: str, reader: str = "") -> pcsc.ReaderEvent:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                ev = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if ev.kind == kind and (not reader or ev.reader == reader):
                return ev
        pytest.fail(f"no {kind} {reader} event")

    with pcsc.PcscMonitor(events.put, poll_s=0.2, retry_s=0.1) as monitor:
        until("service-back")
        until("reader-added", READER0)
        until("reader-added", READER1)
        assert until("card-inserted", READER0).atr == card.chip.atr
        card.remove()
        until("card-removed", READER0)
        card.insert()
        until("card-inserted", READER0)
        pcscd.restart()  # pcscd goes away and comes back: the monitor re-creates its watch
        until("service-lost")
        until("service-back")
        until("reader-added", READER0)
        until("card-inserted", READER0)
        assert monitor.readers == {READER0: True, READER1: False}
    files, _ = call_with_timeout(_read, 30)
    assert files == _reference_files()


@pytest.mark.pcsc
def test_monitor_without_pcscd_waits_for_it(pcscd: Pcscd) -> None:
    events: queue.Queue[pcsc.ReaderEvent] = queue.Queue()
    pcscd.stop()
    try:
        with pcsc.PcscMonitor(events.put, poll_s=0.2, retry_s=0.1):
            time.sleep(0.5)
            assert events.empty()  # nothing to report, and the thread is still alive
            pcscd.start()
            deadline = time.monotonic() + 15
            kinds: list[str] = []
            while "reader-added" not in kinds and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    kinds.append(events.get(timeout=0.5).kind)
            assert kinds[:2] == ["service-back", "reader-added"]
    finally:
        if not pcscd.running:
            pcscd.start()


@pytest.mark.pcsc
def test_two_readers_two_cards(running_pcscd: Pcscd, reference: dict[str, bytes]) -> None:
    tuyet = access.key_from_id("046196008821")
    expected = ReaderSession(open_simulated("anh-tuyet")).read([tuyet]).files
    with (
        VpcdCard(make_chip("default"), port=running_pcscd.port).start(),
        VpcdCard(make_chip("anh-tuyet"), port=running_pcscd.port + 1).start(),
    ):
        pcsc.wait_for_card(READER0, timeout=10)
        pcsc.wait_for_card(READER1, timeout=10)
        assert pcsc.readers_with_card() == [READER0, READER1]
        results: dict[str, dict[str, bytes]] = {}

        def read(reader: str, key: access.AccessKey) -> None:
            with pcsc.open_pcsc(reader) as t:
                results[t.reader] = ReaderSession(t).read([key]).files

        threads = [
            threading.Thread(target=read, args=(READER0, DEFAULT_KEY)),
            threading.Thread(target=read, args=("00 01", tuyet)),  # a unique part of the name
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert results == {READER0: reference, READER1: expected}
    pcsc.wait_for_removal(timeout=10)


@pytest.mark.pcsc
def test_wait_for_card_times_out(running_pcscd: Pcscd) -> None:
    with pytest.raises(TransportTimeout):
        pcsc.wait_for_card(READER1, timeout=0.3)
    with pytest.raises(pcsc.ReaderNotFound):
        pcsc.wait_for_card("nope", timeout=0.3)
