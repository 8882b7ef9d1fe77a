"""Property tests for every LDS parser.

Three properties per file type:

* junk in: random bytes (and random bytes behind the right outer tag) make a
  parser return or raise a project error, never anything else;
* mutated valid files: byte flips, truncation, insertion and deletion on a
  valid encoding, same rule;
* round trip: ``parse(encode(x)) == x`` over generated dataclasses.

The conftest selects the hypothesis profile (``make fuzz`` runs them far longer).
"""

from __future__ import annotations

import contextlib
import datetime
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from kiosk.emrtd import tlv
from kiosk.emrtd.ec import CURVES
from kiosk.emrtd.errors import LDSParseError, TLVError
from kiosk.emrtd.lds import card_access, com, dg2, dg13, dg14, dg15, sod
from kiosk.emrtd.lds.card_access import CardAccess
from kiosk.emrtd.lds.com import EFCom
from kiosk.emrtd.lds.dg2 import DG2, FaceImage, FeaturePoint
from kiosk.emrtd.lds.dg13 import DG13
from kiosk.emrtd.lds.dg14 import DG14
from kiosk.emrtd.lds.dg15 import DG15
from kiosk.emrtd.lds.security_infos_codec import parse_security_info
from kiosk.emrtd.lds.sod import LDSSecurityObject
from kiosk.emrtd.pa import passive_authentication
from kiosk.emrtd.security_infos import (
    ID_AA,
    ID_CA,
    ID_PACE,
    ID_PK_DH,
    ID_PK_ECDH,
    ID_TA,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEDomainParameterInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
)
from tests import DATA
from tests.emrtd.test_lds_dg14_dg15 import explicit_spki

PROJECT_ERRORS = (LDSParseError, TLVError)


def _survives(parse: Callable[[bytes], Any], data: bytes) -> None:
    """Call ``parse``; only project errors may escape."""
    with contextlib.suppress(*PROJECT_ERRORS):
        parse(data)


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid encoding with a few random edits."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        if not data:
            data = bytearray(draw(st.binary(max_size=4)))
            continue
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF]))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[i : i + draw(st.integers(1, 4))]
    return bytes(data)


def _junk_behind(tag: int) -> st.SearchStrategy[bytes]:
    """Random value bytes wrapped in the right outer tag (gets past the first check)."""
    return st.binary(max_size=600).map(lambda v: tlv.encode(tag, v))


# --- strategies for dataclasses -------------------------------------------------------

_arc = st.integers(0, 300)
_small = st.integers(0, 2**31)
_opt_small = st.none() | _small


def _oid_under(parent: str, arcs: int) -> st.SearchStrategy[str]:
    return st.lists(_arc, min_size=arcs, max_size=arcs).map(
        lambda xs: ".".join([parent, *map(str, xs)])
    )


def _der_any() -> st.SearchStrategy[bytes]:
    return st.sampled_from(
        [
            bytes.fromhex("0500"),
            bytes.fromhex("0C0141"),
            bytes.fromhex("3003020101"),
            bytes.fromhex("300C06072A8648CE3D02010201FF"),
        ]
    )


_SPKIS = [
    # EC P-256 named curve and a small RSA key: shape is all the codec checks.
    bytes.fromhex(
        "3059301306072A8648CE3D020106082A8648CE3D03010703420004"
        "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
        "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"
    ),
    bytes.fromhex("301C300D06092A864886F70D0101010500030B0030080203010001020103"),
]

security_infos: st.SearchStrategy[SecurityInfo] = st.one_of(
    st.builds(PACEInfo, _oid_under(ID_PACE, 2), _small, _opt_small),
    st.builds(
        PACEDomainParameterInfo,
        _oid_under(ID_PACE, 1),
        st.sampled_from(
            [bytes.fromhex("300C06072A8648CE3D02010201FF"), bytes.fromhex("3003060100")]
        ),
        _opt_small,
    ),
    st.builds(ChipAuthenticationInfo, _oid_under(ID_CA, 2), _small, _opt_small),
    st.builds(
        ChipAuthenticationPublicKeyInfo,
        st.sampled_from([ID_PK_DH, ID_PK_ECDH]),
        st.sampled_from(_SPKIS),
        _opt_small,
    ),
    st.builds(TerminalAuthenticationInfo, st.just(ID_TA), _small),
    st.builds(ActiveAuthenticationInfo, st.just(ID_AA), _small, _oid_under("0.4.0.127", 3)),
    st.tuples(_oid_under("1.3.6.1.4.1", 2), st.lists(_der_any(), max_size=2)).map(
        lambda t: UnknownSecurityInfo(
            t[0],
            tlv.encode(
                0x30,
                tlv.encode(0x06, _oid_body(t[0])) + b"".join(t[1] or [bytes.fromhex("0500")]),
            ),
        )
    ),
)


def _oid_body(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


card_accesses = st.lists(security_infos, max_size=6).map(lambda xs: CardAccess(tuple(xs)))
ef_coms = st.builds(
    EFCom,
    st.text("0123456789", min_size=4, max_size=4),
    st.text("0123456789", min_size=6, max_size=6),
    st.lists(st.sampled_from([0x61, 0x63, 0x6D, 0x6E, 0x6F, 0x75, 0x5F1F, 0x42]), max_size=16).map(
        tuple
    ),
)


# --- SecurityInfos / EF.CardAccess ---------------------------------------------------


@given(st.binary(max_size=600))
def test_fuzz_card_access_junk(data: bytes) -> None:
    _survives(card_access.parse, data)
    _survives(parse_security_info, data)


@given(_junk_behind(0x31))
def test_fuzz_card_access_junk_in_set(data: bytes) -> None:
    _survives(card_access.parse, data)


@given(st.data(), card_accesses)
def test_fuzz_card_access_mutated(data: st.DataObject, ca: CardAccess) -> None:
    _survives(card_access.parse, data.draw(mutated(card_access.encode(ca))))


@given(card_accesses)
def test_fuzz_card_access_round_trip(ca: CardAccess) -> None:
    assert card_access.parse(card_access.encode(ca)) == ca


# --- EF.COM --------------------------------------------------------------------------


@given(st.binary(max_size=200) | _junk_behind(0x60))
def test_fuzz_com_junk(data: bytes) -> None:
    _survives(com.parse, data)


@given(st.data(), ef_coms)
def test_fuzz_com_mutated(data: st.DataObject, ef: EFCom) -> None:
    _survives(com.parse, data.draw(mutated(com.encode(ef))))


@given(ef_coms)
def test_fuzz_com_round_trip(ef: EFCom) -> None:
    assert com.parse(com.encode(ef)) == ef


# --- DG13 ----------------------------------------------------------------------------

_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
vn_text = st.text(
    alphabet=st.sampled_from(_VIETNAMESE + _VIETNAMESE.upper() + "0123456789 /,.-:()")
    | st.characters(codec="utf-8"),
    max_size=40,
).map(lambda s: unicodedata.normalize("NFC", s))
_opt_text = st.none() | vn_text


@st.composite
def dg13s(draw: st.DrawFn) -> DG13:
    father = draw(_opt_text)
    unknown_numbers = draw(st.lists(st.integers(17, 300), unique=True, max_size=3))
    unknown = tuple(
        (n, draw(st.sampled_from([b"", bytes.fromhex("0C0141"), bytes.fromhex("0201FF3000")])))
        for n in sorted(unknown_numbers)
    )
    d = DG13(
        id_number=draw(_opt_text | st.text("0123456789", min_size=12, max_size=12)),
        full_name=draw(_opt_text),
        date_of_birth=draw(_opt_text | st.dates().map(lambda d: d.strftime("%d/%m/%Y"))),
        sex=draw(st.none() | st.sampled_from(["Nam", "Nữ"])),
        nationality=draw(_opt_text),
        ethnicity=draw(_opt_text),
        religion=draw(_opt_text),
        place_of_origin=draw(_opt_text),
        place_of_residence=draw(_opt_text),
        identifying_marks=draw(_opt_text),
        date_of_issue=draw(_opt_text),
        date_of_expiry=draw(_opt_text | st.just(dg13.NO_EXPIRY_TEXT)),
        father_name=father,
        mother_name=draw(_opt_text) if father is not None else None,
        spouse_name=draw(_opt_text),
        old_id_number=draw(_opt_text),
        field16_raw=draw(st.none() | st.binary(max_size=20)),
        unknown_fields=unknown,
    )
    # Fields present without a value: any modelled one left None (14 is always written).
    attrs = {n: a for n, a in dg13._TEXT_FIELDS.items()}
    free = [n for n, a in attrs.items() if getattr(d, a) is None]
    free += [13] if d.father_name is None else []
    free += [16] if d.field16_raw is None else []
    free = [n for n in free if n not in dict(unknown)]
    empty = draw(st.lists(st.sampled_from(free), unique=True, max_size=3)) if free else []
    return replace(d, empty_fields=tuple(sorted(empty)))


@given(st.binary(max_size=600) | _junk_behind(0x6D))
def test_fuzz_dg13_junk(data: bytes) -> None:
    _survives(dg13.parse, data)


@given(st.data(), dg13s())
def test_fuzz_dg13_mutated(data: st.DataObject, d: DG13) -> None:
    _survives(dg13.parse, data.draw(mutated(dg13.encode(d))))


@given(dg13s())
def test_fuzz_dg13_round_trip(d: DG13) -> None:
    assert dg13.parse(dg13.encode(d)) == d


@given(vn_text)
def test_fuzz_dg13_nfd_input_comes_out_nfc(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert dg13.parse(dg13.encode(DG13(full_name=nfd))).full_name == text


# --- EF.SOD --------------------------------------------------------------------------


@cache
def _dsc() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fuzz DS")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


_hash_name = st.sampled_from(["sha1", "sha224", "sha256", "sha384", "sha512"])
lds_security_objects = st.builds(
    LDSSecurityObject,
    st.integers(0, 1),
    _hash_name,
    st.lists(st.integers(1, 16), unique=True, max_size=16).flatmap(
        lambda ns: st.tuples(*[st.tuples(st.just(n), st.binary(max_size=64)) for n in ns])
    ),
    st.none() | st.tuples(st.text("0123456789", min_size=4, max_size=4), st.just("040000")),
)


def _parse_sod_fully(data: bytes) -> None:
    parsed = sod.parse(data)
    parsed.signer_certificate()


@given(st.binary(max_size=800) | _junk_behind(0x77))
def test_fuzz_sod_junk(data: bytes) -> None:
    _survives(_parse_sod_fully, data)
    _survives(sod.parse_lds_security_object, data)


@given(st.data(), lds_security_objects)
def test_fuzz_sod_mutated(data: st.DataObject, lso: LDSSecurityObject) -> None:
    key, cert = _dsc()
    valid = sod.encode(lso, signer_cert_der=cert, signer_key=key)
    _survives(_parse_sod_fully, data.draw(mutated(valid)))
    _survives(
        sod.parse_lds_security_object, data.draw(mutated(sod.encode_lds_security_object(lso)))
    )


_REAL_BER_SOD = (DATA / "real_sods" / "NZ.sod").read_bytes()  # indefinite lengths in the CMS
_REAL_MY_SOD = (DATA / "real_sods" / "MY.sod").read_bytes()  # issuer RDNs in another order


@given(st.data(), st.sampled_from([_REAL_BER_SOD, _REAL_MY_SOD]))
def test_fuzz_real_ber_sod_mutated(data: st.DataObject, real: bytes) -> None:
    """Real SODs (BER, a loosely named signer) mutated: only project errors escape,
    and the signer search never raises anything else either."""

    def parse_and_match(raw: bytes) -> None:
        parsed = sod.parse(raw)
        parsed.find_signer()
        passive_authentication(parsed, {}, None)  # results, never exceptions

    _survives(parse_and_match, data.draw(mutated(real)))


@given(
    lds_security_objects,
    _hash_name,
    st.none() | st.datetimes(datetime.datetime(1900, 1, 1), timezones=st.just(datetime.UTC)),
)
def test_fuzz_sod_round_trip(
    lso: LDSSecurityObject, digest: str, when: datetime.datetime | None
) -> None:
    assert sod.parse_lds_security_object(sod.encode_lds_security_object(lso)) == lso
    key, cert = _dsc()
    if when is not None:
        when = when.replace(microsecond=0)
    parsed = sod.parse(
        sod.encode(
            lso, signer_cert_der=cert, signer_key=key, digest_algorithm=digest, signing_time=when
        )
    )
    assert parsed.lds_security_object == lso
    assert parsed.signer_info.signing_time == when
    assert parsed.signer_certificate() == cert


# --- DG14 / DG15 ---------------------------------------------------------------------

dg14s = st.lists(security_infos, max_size=6).map(lambda xs: DG14(tuple(xs)))


@cache
def _aa_spkis() -> tuple[bytes, ...]:
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return (
        rsa.generate_private_key(65537, 1024).public_key().public_bytes(der, pub),
        ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(der, pub),
        ec.generate_private_key(ec.BrainpoolP384R1()).public_key().public_bytes(der, pub),
        explicit_spki(
            CURVES["brainpoolP256r1"], ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
        ),
    )


def _use_dg15(data: bytes) -> None:
    parsed = dg15.parse(data)
    assert parsed.algorithm in ("rsa", "ec")
    assert parsed.key_size > 0
    parsed.public_key()


@given(st.binary(max_size=600) | _junk_behind(0x6E) | _junk_behind(0x6F))
def test_fuzz_dg14_dg15_junk(data: bytes) -> None:
    _survives(dg14.parse, data)
    _survives(_use_dg15, data)


@given(st.data(), dg14s)
def test_fuzz_dg14_mutated(data: st.DataObject, d: DG14) -> None:
    _survives(dg14.parse, data.draw(mutated(dg14.encode(d))))


@given(dg14s)
def test_fuzz_dg14_round_trip(d: DG14) -> None:
    assert dg14.parse(dg14.encode(d)) == d


@given(st.data(), st.integers(0, 3))
def test_fuzz_dg15_mutated(data: st.DataObject, which: int) -> None:
    _survives(_use_dg15, data.draw(mutated(dg15.encode(DG15(_aa_spkis()[which])))))


@given(st.integers(0, 3))
def test_fuzz_dg15_round_trip(which: int) -> None:
    d = DG15(_aa_spkis()[which])
    assert dg15.parse(dg15.encode(d)) == d


# --- DG2 -----------------------------------------------------------------------------

_MAGIC = {
    "jpeg": [bytes.fromhex("FFD8FFE0"), bytes.fromhex("FFD8FFDB")],
    "jpeg2000": [bytes.fromhex("0000000C6A5020200D0A870A"), bytes.fromhex("FF4FFF51")],
}
_u8 = st.integers(0, 255)
_u16 = st.integers(0, 0xFFFF)


@st.composite
def _image(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(_MAGIC)))
    return fmt, draw(st.sampled_from(_MAGIC[fmt])) + draw(st.binary(max_size=64))


@st.composite
def faces_19794(draw: st.DrawFn) -> FaceImage:
    fmt, image = draw(_image())
    return FaceImage(
        image=image,
        image_format=fmt,
        width=draw(_u16),
        height=draw(_u16),
        gender=draw(_u8),
        eye_colour=draw(_u8),
        hair_colour=draw(_u8),
        feature_mask=draw(st.integers(0, 0xFFFFFF)),
        expression=draw(_u16),
        pose_angle=draw(st.tuples(_u8, _u8, _u8)),
        pose_angle_uncertainty=draw(st.tuples(_u8, _u8, _u8)),
        feature_points=tuple(
            draw(
                st.lists(
                    st.builds(
                        FeaturePoint, _u8, st.integers(0, 15), st.integers(0, 15), _u16, _u16
                    ),
                    max_size=3,
                )
            )
        ),
        face_image_type=draw(_u8),
        image_data_type=draw(_u8),
        colour_space=draw(_u8),
        source_type=draw(_u8),
        device_type=draw(_u16),
        quality=draw(_u16),
    )


@st.composite
def faces_39794(draw: st.DrawFn) -> FaceImage:
    fmt, image = draw(_image())
    code = st.integers(0, 1000)
    return FaceImage(
        image=image,
        image_format=fmt,
        width=draw(st.integers(0, 2**31)),
        height=draw(st.integers(0, 2**31)),
        gender=draw(code),
        eye_colour=draw(code),
        hair_colour=draw(code),
        face_image_type=draw(code),
        image_data_type=draw(code),
        colour_space=draw(code),
    )


dg2s = st.one_of(
    st.lists(faces_19794(), min_size=1, max_size=3).map(lambda fs: DG2(tuple(fs), "iso19794-5")),
    st.lists(faces_39794(), min_size=1, max_size=3).map(lambda fs: DG2(tuple(fs), "iso39794-5")),
)


@given(st.binary(max_size=600) | _junk_behind(0x75))
def test_fuzz_dg2_junk(data: bytes) -> None:
    _survives(dg2.parse, data)


@given(st.data(), dg2s)
def test_fuzz_dg2_mutated(data: st.DataObject, d: DG2) -> None:
    _survives(dg2.parse, data.draw(mutated(dg2.encode(d))))


@given(dg2s)
def test_fuzz_dg2_round_trip(d: DG2) -> None:
    assert dg2.parse(dg2.encode(d)) == d


def _dg2_envelope(bdb_tag: int, body: bytes) -> bytes:
    bht = bytes.fromhex("A112800201018101028201008702010188020008")
    bit = tlv.encode(0x7F60, bht + tlv.encode(bdb_tag, body))
    return tlv.encode(0x75, tlv.encode(0x7F61, b"\x02\x01\x01" + bit))


@given(
    st.sampled_from([0x5F2E, 0x7F2E]),
    st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"FAC\x00010\x00" + b),
)
def test_fuzz_dg2_junk_record(bdb_tag: int, body: bytes) -> None:
    _survives(dg2.parse, _dg2_envelope(bdb_tag, body))


def _lso_paths(data: bytes) -> tuple[object, object]:
    """What the TLV fast path and asn1crypto make of an LDSSecurityObject (or the error)."""

    def run(fn: Callable[[bytes], object]) -> object:
        try:
            return fn(data)
        except LDSParseError:
            return "error"

    return run(sod._lso_fast), run(sod._lso_asn1)


@given(lds_security_objects)
def test_lso_fast_path_reads_every_encoded_lso_as_asn1crypto_does(lso: LDSSecurityObject) -> None:
    encoded = sod.encode_lds_security_object(lso)
    fast, slow = _lso_paths(encoded)
    assert fast == slow == lso


@given(st.data(), lds_security_objects)
def test_lso_fast_path_on_mutations_agrees_or_defers(
    data: st.DataObject, lso: LDSSecurityObject
) -> None:
    """A mutated LSO: the fast path gives asn1crypto's answer, or None (asn1crypto decides)."""
    fast, slow = _lso_paths(data.draw(mutated(sod.encode_lds_security_object(lso))))
    assert fast is None or fast == slow


def _attrs_paths(raw_sod: bytes) -> tuple[object, object]:
    from asn1crypto import cms as asn1_cms

    from kiosk.emrtd.lds._common import unwrap

    value = unwrap(raw_sod, 0x77, "EF.SOD", len(raw_sod), ber=True)
    si = asn1_cms.ContentInfo.load(value)["content"]["signer_infos"][0]
    attrs = si["signed_attrs"]
    return sod._attrs_fast(tlv.encode(0x31, bytes(attrs.contents))), sod._attrs_asn1(attrs)


def test_signed_attrs_fast_path_agrees_on_every_real_sod() -> None:
    taken = 0
    for path in sorted((DATA / "real_sods").glob("*.sod")):
        fast, slow = _attrs_paths(path.read_bytes())
        assert fast is None or fast == slow, path.name
        taken += fast is not None
    assert taken >= 12  # the fast path is the usual one, not a dead branch


@given(
    lds_security_objects,
    st.none() | st.datetimes(datetime.datetime(1950, 1, 1), timezones=st.just(datetime.UTC)),
)
def test_signed_attrs_fast_path_agrees_on_encoded_sods(
    lso: LDSSecurityObject, when: datetime.datetime | None
) -> None:
    key, cert = _dsc()
    when = None if when is None else when.replace(microsecond=0)
    raw = sod.encode(lso, signer_cert_der=cert, signer_key=key, signing_time=when)
    fast, slow = _attrs_paths(raw)
    assert fast == slow
    assert isinstance(fast, tuple) and fast[2] == when


def _sod_paths(raw_sod: bytes) -> tuple[object, object]:
    """The TLV fast path's SOD and asn1crypto's (or "error"), for the same EF.SOD."""
    from kiosk.emrtd.lds._common import unwrap

    try:
        value = unwrap(raw_sod, 0x77, "EF.SOD", len(raw_sod), ber=True)
        tlv.check(value, ber=True)
    except (LDSParseError, TLVError):
        return "error", "error"
    try:
        slow: object = sod._sod_asn1(value)
    except LDSParseError:
        slow = "error"
    return sod._sod_fast(value), slow


def test_sod_fast_path_equals_asn1crypto_on_real_sods() -> None:
    deferred = set()
    for path in sorted((DATA / "real_sods").glob("*.sod")):
        fast, slow = _sod_paths(path.read_bytes())
        assert slow != "error"
        assert fast is None or fast == slow, path.name
        if fast is None:
            deferred.add(path.stem)
    assert deferred == {"NZ"}  # its BER goes to asn1crypto; every DER one takes the fast path


@given(
    lds_security_objects,
    _hash_name,
    st.none() | st.datetimes(datetime.datetime(1950, 1, 1), timezones=st.just(datetime.UTC)),
)
def test_sod_fast_path_equals_asn1crypto_on_encoded_sods(
    lso: LDSSecurityObject, digest: str, when: datetime.datetime | None
) -> None:
    key, cert = _dsc()
    when = None if when is None else when.replace(microsecond=0)
    raw = sod.encode(
        lso, signer_cert_der=cert, signer_key=key, digest_algorithm=digest, signing_time=when
    )
    fast, slow = _sod_paths(raw)
    assert fast is not None and fast == slow


@given(st.data(), lds_security_objects)
def test_sod_fast_path_on_mutations_agrees_or_defers(
    data: st.DataObject, lso: LDSSecurityObject
) -> None:
    """A mutated SOD: the fast path gives asn1crypto's SOD or defers to it; it never
    accepts what asn1crypto refuses."""
    key, cert = _dsc()
    raw = data.draw(mutated(sod.encode(lso, signer_cert_der=cert, signer_key=key)))
    fast, slow = _sod_paths(raw)
    assert fast is None or fast == slow


@given(st.data(), st.sampled_from([_REAL_BER_SOD, _REAL_MY_SOD]))
def test_sod_fast_path_on_mutated_real_sods_agrees_or_defers(
    data: st.DataObject, real: bytes
) -> None:
    fast, slow = _sod_paths(data.draw(mutated(real)))
    assert fast is None or fast == slow
