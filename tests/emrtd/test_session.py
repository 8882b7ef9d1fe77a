"""ReaderSession end to end against the software chip: every sample card, BAC and PACE,
wrong keys, fallbacks, protected and absent files, caps and removal."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import replace
from typing import Any

import pytest

from drivers.simulated import SimulatedTransport, open_simulated
from kiosk.cccd import access
from kiosk.cccd.holder import holder_from
from kiosk.cccd.mrz import id_number_of
from kiosk.emrtd import tlv
from kiosk.emrtd.errors import AccessDenied, FileTooLarge, UnsupportedProtocol
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.session import AccessMode, ReaderSession, ReadResult
from kiosk.transport import CardRemoved
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip
from simulators.card.profile import list_profiles, load_profile

CARDS = list_profiles()


def _mrz_key(name: str) -> access.MRZKey:
    """The MRZ key printed on the back of sample card ``name``."""
    chip = make_chip(name)
    td1 = dg1.parse(chip.files.dgs[1]).mrz
    return access.MRZKey(td1.document_number, td1.date_of_birth, td1.date_of_expiry)


def _read(
    name: str, keys: list[access.AccessKey], mode: str = "auto", **opts: Any
) -> tuple[ReadResult, SimulatedTransport]:
    transport = open_simulated(name, **opts)
    return ReaderSession(transport, access=mode).read(keys), transport


def test_there_are_at_least_six_sample_cards() -> None:
    assert len(CARDS) >= 6
    assert CARDS[0] == "default"


@pytest.mark.parametrize("name", CARDS)
def test_every_card_reads_with_its_best_protocol(name: str) -> None:
    profile = load_profile(name)
    keys: list[access.AccessKey]
    if profile.chip.mode == "bac":
        keys = [_mrz_key(name)]
    else:
        keys = [access.key_from_id(profile.id_number)]
    result, _ = _read(name, keys)
    assert result.access_protocol == ("BAC" if profile.chip.mode == "bac" else "PACE")
    assert result.parse_errors == {}
    assert result.protected == ("DG3",)
    assert result.dg13 is not None and result.dg1 is not None and result.dg2 is not None
    holder = holder_from(result.dg13, result.dg1)
    person = profile.person
    assert holder.id_number == profile.id_number
    assert holder.full_name == unicodedata.normalize("NFC", person.full_name)
    assert holder.date_of_birth == person.date_of_birth
    assert holder.place_of_residence == person.place_of_residence
    assert id_number_of(result.dg1.mrz) == profile.id_number
    # Every DG the SOD lists was read or recorded, and every file matches its SOD hash.
    assert result.sod is not None
    listed = {f"DG{n}" for n in result.sod.lds_security_object.data_groups}
    assert listed == {n for n in result.files if n.startswith("DG")} | set(result.protected)
    for n, digest in result.sod.lds_security_object.dg_hashes:
        if f"DG{n}" in result.files:
            algo = result.sod.lds_security_object.hash_algorithm
            assert hashlib.new(algo, result.files[f"DG{n}"]).digest() == digest


@pytest.mark.parametrize("name", [n for n in CARDS if load_profile(n).chip.mode == "pace+bac"])
def test_bac_and_pace_give_the_same_files(name: str) -> None:
    via_bac, _ = _read(name, [_mrz_key(name)], mode="bac")
    via_pace, _ = _read(name, [_mrz_key(name)], mode="pace")
    assert via_bac.access_protocol == "BAC" and via_pace.access_protocol == "PACE"
    assert via_bac.files == via_pace.files


def test_vietnamese_text_intact() -> None:
    result, _ = _read("anh-tuyet", [access.key_from_id(load_profile("anh-tuyet").id_number)])
    holder = holder_from(result.dg13, result.dg1)
    assert holder.full_name == "Nguyễn Thị Ánh Tuyết"
    assert unicodedata.is_normalized("NFC", holder.full_name)
    assert holder.spouse_name is None
    assert result.dg1 is not None and result.dg1.mrz.surname == "NGUYEN"


def test_no_expiry_card() -> None:
    profile = load_profile("elder")
    result, _ = _read("elder", [access.key_from_id(profile.id_number)])
    assert result.dg1 is not None and result.dg1.mrz.date_of_expiry == "991231"
    assert holder_from(result.dg13, result.dg1).date_of_expiry is None


def test_wrong_can_is_access_denied_and_counted() -> None:
    transport = open_simulated("default")
    with pytest.raises(AccessDenied):
        ReaderSession(transport).read([access.CAN("000000")])
    assert transport.chip.failed_access == 1


def test_wrong_mrz_is_access_denied() -> None:
    key = _mrz_key("bac-only")
    wrong = access.MRZKey(key.document_number, "010101", key.date_of_expiry)
    with pytest.raises(AccessDenied):
        _read("bac-only", [wrong])


def test_second_key_is_tried_after_a_wrong_one() -> None:
    profile = load_profile("default")
    result, transport = _read(
        "default", [access.CAN("111111"), access.key_from_id(profile.id_number)]
    )
    assert result.access_protocol == "PACE"
    assert transport.chip.failed_access == 1


def test_id_and_birth_date_finds_the_expiry() -> None:
    profile = load_profile("bac-only")
    keys = access.keys_from_id_and_birth(profile.id_number, profile.person.date_of_birth)
    assert len(keys) <= 1 + access.MAX_EXPIRY_ATTEMPTS
    result, _ = _read("bac-only", keys)
    assert result.access_protocol == "BAC"


def test_pace_never_falls_back_to_bac() -> None:
    with pytest.raises(UnsupportedProtocol):
        _read("bac-only", [_mrz_key("bac-only")], mode="pace")


def test_can_on_bac_only_card_says_mrz_is_needed() -> None:
    with pytest.raises(UnsupportedProtocol, match="MRZ"):
        _read("bac-only", [access.CAN("005136")])


def test_bac_refused_by_pace_only_card() -> None:
    with pytest.raises(AccessDenied):
        _read("pace-only", [_mrz_key("pace-only")], mode="bac")


@pytest.mark.parametrize("sw", [0x6700, 0x6C00])
def test_length_fallback_keeps_sm_in_sync(sw: int) -> None:
    can = access.key_from_id(load_profile("default").id_number)
    reference, _ = _read("default", [can])
    result, _ = _read("default", [can], max_read=100, max_read_sw=sw, plain_errors=True)
    assert result.files == reference.files
    assert result.apdus > reference.apdus


def test_extended_length_reads_large_files_in_few_apdus() -> None:
    profile = load_profile("big-photo")
    can = access.key_from_id(profile.id_number)
    ext, _ = _read("big-photo", [can], extended_length=True)
    short, _ = _read("big-photo", [can], extended_length=False)
    assert ext.files == short.files
    assert len(ext.files["DG2"]) > 32767  # forces the odd-INS read on short links
    assert ext.apdus < short.apdus / 5


def test_extended_transport_against_short_only_chip_falls_back() -> None:
    can = access.key_from_id(load_profile("default").id_number)
    chip = make_chip("default", extended_length=False)
    transport = SimulatedTransport(chip, extended_length=True)
    result = ReaderSession(transport).read([can])
    assert result.dg2 is not None and result.parse_errors == {}


def test_progress_and_file_order() -> None:
    events: list[tuple[str, int, int]] = []
    files: list[str] = []
    transport = open_simulated("default")
    session = ReaderSession(
        transport,
        progress=lambda p, d, t: events.append((p, d, t)),
        on_file=lambda n, _: files.append(n),
    )
    session.read([access.key_from_id(load_profile("default").id_number)])
    assert files[:3] == ["EF.CardAccess", "EF.SOD", "EF.COM"]
    assert files.index("DG1") < files.index("DG2") and files.index("DG13") < files.index("DG2")
    dg2 = [e for e in events if e[0] == "DG2"]
    assert dg2[-1][1] == dg2[-1][2] > 10_000
    assert all(d <= t for _, d, t in dg2)
    assert [d for _, d, _ in dg2] == sorted(d for _, d, _ in dg2)
    assert "PACE" in [e[0] for e in events]


def test_file_size_cap_stops_a_hostile_chip() -> None:
    honest = make_chip("default")
    # A DG13 that announces 5 MB: the reader must refuse before reading it.
    dgs = dict(honest.files.dgs)
    dgs[13] = tlv.tag_bytes(0x6D) + b"\x83\x50\x00\x00" + bytes(300)
    chip = Chip(replace(honest.files, dgs=dgs), honest.options)
    transport = SimulatedTransport(chip)
    with pytest.raises(FileTooLarge):
        ReaderSession(transport).read([access.key_from_id(load_profile("default").id_number)])


@pytest.mark.parametrize("after", [1, 3, 6, 9, 20])
def test_removal_mid_read_is_card_removed(after: int) -> None:
    chip = make_chip("default")
    chip.remove_after(after)
    with pytest.raises(CardRemoved):
        ReaderSession(SimulatedTransport(chip)).read(
            [access.key_from_id(load_profile("default").id_number)]
        )


def test_dg2_can_be_skipped() -> None:
    transport = open_simulated("default")
    result = ReaderSession(transport, read_dg2=False).read(
        [access.key_from_id(load_profile("default").id_number)]
    )
    assert "DG2" not in result.files and "DG13" in result.files


def test_access_mode_from_string() -> None:
    assert AccessMode("pace") is AccessMode.PACE
    with pytest.raises(ValueError):
        AccessMode("pin")


def test_6700_on_plain_256_read_costs_at_most_two_apdus() -> None:
    """A chip that refuses reads above 223 bytes must not halve every later read."""
    can = access.key_from_id(load_profile("default").id_number)
    reference, _ = _read("default", [can])
    fussy, _ = _read("default", [can], max_read=223, max_read_sw=0x6700, extended_length=True)
    assert fussy.files == reference.files
    assert fussy.apdus <= reference.apdus + 2


def _cam_card(*, wrong_ca_key: bool = False) -> Chip:
    """The default card offering PACE-CAM (and GM) in EF.CardAccess."""
    from cryptography.hazmat.primitives.asymmetric import ec as cec

    from kiosk.emrtd.lds import card_access as ca_file
    from kiosk.emrtd.security_infos import ID_PACE_ECDH_CAM, PACEInfo

    files = make_chip("default").files
    assert files.card_access is not None
    current = ca_file.parse(files.card_access)
    cam = PACEInfo(ID_PACE_ECDH_CAM + ".2", 2, 13)
    access_file = ca_file.encode(ca_file.CardAccess((*current.security_infos, cam)))
    files = replace(files, card_access=access_file, pace_info=cam)
    if wrong_ca_key:
        files = replace(files, ca_private_key=cec.generate_private_key(cec.BrainpoolP256R1()))
    return Chip(files)


def test_pace_cam_is_preferred_and_proves_the_chip() -> None:
    result = ReaderSession(SimulatedTransport(_cam_card())).read([access.CAN("034517")])
    assert result.access_protocol == "PACE"
    assert result.chip_auth is not None and result.chip_auth.result == "passed"
    assert result.chip_auth.protocol is not None and ".2.2.4.6." in result.chip_auth.protocol
    assert result.passive_auth is not None and result.passive_auth.signature == "valid"


def test_pace_cam_with_the_wrong_chip_key_fails_chip_authentication() -> None:
    chip = _cam_card(wrong_ca_key=True)
    result = ReaderSession(SimulatedTransport(chip)).read([access.CAN("034517")])
    assert result.chip_auth is not None and result.chip_auth.result == "failed"


@pytest.mark.parametrize("withheld", [(14,), (15,), (14, 15), (13,)])
def test_a_chip_withholding_listed_dgs_is_not_genuine(withheld: tuple[int, ...]) -> None:
    """A clone can refuse DG14/DG15 to dodge CA/AA: the SOD lists them, so that fails."""
    honest = make_chip("default")
    chip = Chip(replace(honest.files, protected=frozenset({3, *withheld})), honest.options)
    result = ReaderSession(SimulatedTransport(chip)).read([access.CAN("034517")])
    assert result.protected == ("DG3",)
    assert result.passive_auth is not None and result.passive_auth.verdict == "failed"
    for n in withheld:
        assert any(f"DG{n}" in r for r in result.passive_auth.reasons)
    if 14 in withheld:
        assert result.chip_auth is not None and result.chip_auth.result == "failed"
        assert "withheld DG14" in (result.chip_auth.reason or "")
    if 15 in withheld:
        assert result.active_auth is not None and result.active_auth.result == "failed"


@pytest.mark.parametrize(("sw", "slack"), [(0x6C00, 1.05), (0x6700, 1.12)])
def test_a_chip_limited_to_100_byte_reads_costs_near_the_ideal(sw: int, slack: float) -> None:
    """The chip's limit is learned once; a small file's 6Cxx (its size) must not cap later
    reads, and 6700 must not halve far below the limit."""
    import math

    from kiosk.emrtd.session import READ_STEPS

    transport = open_simulated("default", max_read=100, max_read_sw=sw)
    session = ReaderSession(transport, steps=READ_STEPS, keep_log=True)
    result = session.read([access.CAN("034517")])
    reads = sum(1 for rec in session.channel.log if rec.command[1] in (0xB0, 0xB1))
    ideal = sum(math.ceil(len(raw) / 100) for raw in result.files.values()) + 1  # + DG3
    assert ideal <= reads <= ideal * slack
