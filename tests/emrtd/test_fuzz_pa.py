"""Property tests for passive authentication and the trust store.

Junk and mutated master lists, CRLs, certificates, SODs and signatures must
give a result or a project error (:class:`PassiveAuthError`, or
``LDSParseError``/``TLVError`` from the SOD parser), never anything else; a
changed data group is never ``verified``. The conftest picks the hypothesis
profile (``make fuzz`` runs these far longer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from kiosk.emrtd.certs import Certificate, PassiveAuthError, verify_signature
from kiosk.emrtd.errors import LDSParseError, TLVError
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.masterlist import load_master_list
from kiosk.emrtd.pa import PassiveAuthResult, passive_authentication
from kiosk.emrtd.trust import CRL, TrustStore
from tests.emrtd.test_masterlist import small_list
from tests.emrtd.test_pa import NOW, dg_files, ec_key, make_crl, make_sod, pki, rsa_key

SOD_ERRORS = (LDSParseError, TLVError)
ALGORITHMS = [
    "sha256_rsa",
    "sha1_rsa",
    "rsassa_pss",
    "rsassa_pkcs1v15",
    "sha256_ecdsa",
    "sha512_ecdsa",
    "ecdsa",
    "0.4.0.127.0.7.1.1.4.1.3",
    "1.2.3.4",
    "md5_rsa",
    "",
]


@st.composite
def mutated(draw: st.DrawFn, valid: bytes, *, keep_length: bool = False) -> bytes:
    """``valid`` with a few random edits (flips, sets; also truncation, insertion, deletion)."""
    data = bytearray(valid)
    ops = ["flip", "set"] if keep_length else ["flip", "set", "truncate", "insert", "delete"]
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data = bytearray(draw(st.binary(max_size=4)))
            continue
        op = draw(st.sampled_from(ops))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0xFF]))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[i : i + draw(st.integers(1, 4))]
    return bytes(data)


@cache
def fixture() -> tuple[bytes, dict[str, bytes], TrustStore, bytes, bytes]:
    """(encoded SOD, its files, a store trusting the CSCA, the DSC, a CRL of the CSCA)."""
    p = pki("fuzz")
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    raw = sod_mod.encode(
        sod.lds_security_object,
        signer_cert_der=p.dsc_der,
        signer_key=p.dsc_key,
        signing_time=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )
    crl = make_crl(p.csca_name, p.csca_key, [5, 6, 7])
    store = p.store()
    store.add_crl(crl)
    return raw, files, store, p.dsc_der, crl


def _check_result(result: PassiveAuthResult) -> None:
    assert result.verdict in ("verified", "issuer_unknown", "failed")
    assert result.signature in ("valid", "invalid")
    assert result.chain in ("trusted", "unknown_issuer", "invalid")
    if result.verdict == "failed":
        assert result.reasons
    result.to_json()


@given(st.binary(max_size=600))
def test_junk_master_list(data: bytes) -> None:
    with contextlib.suppress(PassiveAuthError):
        load_master_list(data)


@given(st.data())
def test_mutated_master_list(data: st.DataObject) -> None:
    raw = small_list()[0]
    try:
        ml = load_master_list(data.draw(mutated(raw)))
    except PassiveAuthError:
        return
    TrustStore().add_master_list(ml)


@given(st.one_of(st.binary(max_size=400), st.deferred(lambda: mutated(fixture()[4]))))
def test_junk_and_mutated_crl(data: bytes) -> None:
    store = fixture()[2]
    issuer = store.certificates()[0]
    try:
        crl = CRL.from_der(data)
    except PassiveAuthError:
        return
    crl.signed_by(issuer)
    local = TrustStore()
    local.add_certificate(issuer)
    local.add_crl(crl)
    local.revoked(Certificate.from_der(fixture()[3]), issuer)


@given(st.one_of(st.binary(max_size=400), st.deferred(lambda: mutated(fixture()[3]))))
def test_junk_and_mutated_certificate(data: bytes) -> None:
    try:
        cert = Certificate.from_der(data, load_key=True)
    except PassiveAuthError:
        assert not TrustStore().add_certificate(data)
        return
    issuer = fixture()[2].certificates()[0]
    with contextlib.suppress(PassiveAuthError):
        cert.signed_by(issuer.public_key())
    cert.valid_at(NOW)
    TrustStore().add_certificate(cert)


@given(st.data())
def test_mutated_sod_gives_a_result_or_a_parse_error(data: st.DataObject) -> None:
    raw, files, store, _, _ = fixture()
    try:
        sod = sod_mod.parse(data.draw(mutated(raw)))
    except SOD_ERRORS:
        return
    _check_result(passive_authentication(sod, files, store, now=NOW))
    _check_result(passive_authentication(sod, {}, None, now=NOW))


@given(st.data(), st.sampled_from(["DG1", "DG2", "DG13"]))
def test_changed_data_group_is_never_verified(data: st.DataObject, dg: str) -> None:
    raw, files, store, _, _ = fixture()
    changed = data.draw(mutated(files[dg], keep_length=True))
    if changed == files[dg]:
        return
    result = passive_authentication(
        sod_mod.parse(raw), dict(files, **{dg: changed}), store, now=NOW
    )
    assert result.verdict == "failed"
    assert result.data_groups[dg] == "mismatch"


@given(
    st.sampled_from(["ec", "rsa", "spki"]),
    st.sampled_from(ALGORITHMS),
    st.binary(max_size=80),
    st.binary(max_size=300),
    st.none() | st.binary(max_size=40),
)
def test_verify_signature_with_junk(
    kind: str, algorithm: str, message: bytes, signature: bytes, params: bytes | None
) -> None:
    key: object = {
        "ec": ec_key("fuzz-sig").public_key(),
        "rsa": rsa_key("fuzz-sig", 1024).public_key(),
        "spki": signature[:60],
    }[kind]
    try:
        result = verify_signature(
            key,
            algorithm,
            message,
            signature,
            parameters=params,
            digest="sha256",
        )
    except PassiveAuthError:
        return
    assert result is False
