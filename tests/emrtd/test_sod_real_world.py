"""EF.SOD as real chips send it: BER inside the CMS, and signers named loosely.

Constructions built here with asn1crypto and the capped TLV codec from SODs the
test PKI signs (the real-world files themselves are in ``test_real_sods.py``):

* BER: indefinite lengths on every constructed CMS object except the
  certificates (as a New Zealand passport does), the outer ``77`` indefinite
  too, the eContent as a chunked (constructed) OCTET STRING, and the signed
  attributes indefinite and out of DER order — the signature covers their DER
  SET, so it must still verify;
* signer identifiers: issuerAndSerialNumber with the issuer's RDNs reordered
  and another string type (as a Malaysian passport does), a
  subjectKeyIdentifier, a wrong serial with only one certificate carried.
"""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.lds._common import unwrap
from tests.emrtd.test_pa import Pki, check, dg_files, ec_key, make_dsc, pki

EOC = b"\x00\x00"


def _signed_raw(p: Pki, files: dict[str, bytes]) -> bytes:
    pairs = tuple(sorted((int(k[2:]), hashlib.sha256(v).digest()) for k, v in files.items()))
    lso = sod_mod.LDSSecurityObject(0, "sha256", pairs)
    return sod_mod.encode(
        lso,
        signer_cert_der=p.dsc_der,
        signer_key=p.dsc_key,
        signing_time=sod_mod.datetime.datetime(2024, 5, 1, tzinfo=sod_mod.datetime.UTC),
    )


def _indef(tag: int, body: bytes) -> bytes:
    return tlv.tag_bytes(tag) + b"\x80" + body + EOC


def _ber(node: tlv.TLV, path: tuple[int, ...] = ()) -> bytes:
    """Re-encode ``node`` with indefinite lengths, as a BER chip would; see the module docstring.

    ``path`` is the chain of tags down to ``node`` (ContentInfo = (0x30,)).
    """
    if not node.constructed:
        return node.encode()
    if path[-2:] == (0x30, 0xA0) and len(path) == 4:  # SignedData.certificates: keep DER
        return node.encode()
    kids = list(node.children)
    if node.tag == 0xA0 and len(path) == 5 and kids and kids[0].tag == 0x04:
        # eContent [0] { OCTET STRING }: send the OCTET STRING in two chunks.
        value = kids[0].value
        half = len(value) // 2
        chunked = _indef(0x24, tlv.encode(0x04, value[:half]) + tlv.encode(0x04, value[half:]))
        return _indef(node.tag, chunked)
    if (
        node.tag == 0x30 and len(path) == 5
    ):  # a SignerInfo: definite (as on the NZ chip), its signedAttrs not
        parts = []
        for kid in kids:
            if kid.tag == 0xA0:  # indefinite, and the attributes out of DER order
                parts.append(_indef(0xA0, b"".join(k.encode() for k in kid.children[::-1])))
            else:
                parts.append(kid.encode())
        return tlv.encode(node.tag, b"".join(parts))
    body = b"".join(_ber(k, (*path, k.tag)) for k in kids)
    return _indef(node.tag, body)


def _ber_sod(raw: bytes) -> bytes:
    info = tlv.decode(unwrap(raw, 0x77, "EF.SOD", len(raw)))
    return _indef(0x77, _ber(info, (info.tag,)))


@pytest.fixture(scope="module")
def ber_case() -> tuple[Pki, dict[str, bytes], bytes, bytes]:
    p = pki()
    files = dg_files()
    der = _signed_raw(p, files)
    return p, files, der, _ber_sod(der)


def test_the_construction_is_really_ber(
    ber_case: tuple[Pki, dict[str, bytes], bytes, bytes],
) -> None:
    _, _, der, ber = ber_case
    assert ber[:2] == b"\x77\x80"
    assert ber.count(b"\x24\x80") >= 1  # the chunked eContent
    with pytest.raises(tlv.TLVError, match="indefinite"):
        tlv.decode(ber)
    # Same content: decoded and re-encoded definite, every object but the re-ordered SET matches.
    assert len(tlv.decode(ber, ber=True).value) > len(der) - 8


def test_ber_sod_parses_to_the_same_signed_content(
    ber_case: tuple[Pki, dict[str, bytes], bytes, bytes],
) -> None:
    _, _, der, ber = ber_case
    a, b = sod_mod.parse(der), sod_mod.parse(ber)
    assert b.econtent == a.econtent  # the chunks joined: the octets the digest covers
    assert b.lds_security_object == a.lds_security_object
    assert b.certificates == a.certificates
    assert b.signer_info.signed_attrs_der == a.signer_info.signed_attrs_der  # DER SET again
    assert b.signer_info.signed_attrs_received not in (None, a.signer_info.signed_attrs_der)
    assert a.signer_info.signed_attrs_received is None


def test_ber_sod_verifies(ber_case: tuple[Pki, dict[str, bytes], bytes, bytes]) -> None:
    p, files, _, ber = ber_case
    result = check(sod_mod.parse(ber), files, p.store())
    assert (result.verdict, result.signature, result.chain) == ("verified", "valid", "trusted")
    tampered = dict(files, DG2=files["DG2"][:-1] + b"\x00")
    assert check(sod_mod.parse(ber), tampered, p.store()).verdict == "failed"


def test_ber_keeps_the_caps() -> None:
    deep = b"\x04\x00"
    for _ in range(40):
        deep = _indef(0x30, deep)
    with pytest.raises(LDSParseError, match="deeper"):
        sod_mod.parse(_indef(0x77, deep))
    with pytest.raises(LDSParseError, match="end-of-contents"):
        sod_mod.parse(b"\x77\x80\x30\x80\x02\x01\x01")
    with pytest.raises(LDSParseError, match="primitive"):
        sod_mod.parse(b"\x77\x80\x04\x80\x00\x00\x00\x00")
    big = _indef(0x30, tlv.encode(0x04, bytes(40000)))
    with pytest.raises(LDSParseError):
        sod_mod.parse(_indef(0x77, big))


# ------------------------------------------------------------------ signer identifiers


def _with_sid(raw: bytes, sid: cms.SignerIdentifier, extra_certs: tuple[bytes, ...] = ()) -> bytes:
    info = cms.ContentInfo.load(unwrap(raw, 0x77, "EF.SOD", len(raw)))
    sd = info["content"]
    sd["signer_infos"][0]["sid"] = sid
    if sid.name == "subject_key_identifier":
        sd["signer_infos"][0]["version"] = "v3"
    if extra_certs:
        certs = [cms.CertificateChoices.load(c.dump()) for c in sd["certificates"]]
        certs += [
            cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(d)})
            for d in extra_certs
        ]
        sd["certificates"] = certs
    return tlv.encode(0x77, info.dump(force=True))


def _reordered_issuer(p: Pki) -> asn1_x509.Name:
    """The DSC's issuer with the RDNs reversed and UTF8String values (another encoding)."""
    issuer = asn1_x509.Certificate.load(p.dsc_der).issuer
    rdns = []
    for rdn in reversed(list(issuer.chosen)):
        atvs = []
        for atv in rdn:
            value = atv["value"]
            kind = atv["type"].native
            text = value.native
            if kind != "country_name":
                value = asn1_x509.DirectoryString({"utf8_string": text.upper()})
            atvs.append({"type": atv["type"].dotted, "value": value})
        rdns.append(atvs)
    return asn1_x509.Name.load(_rdn_sequence(rdns))


def _rdn_sequence(rdns: list[list[dict[str, object]]]) -> bytes:
    seq = asn1_x509.RDNSequence(
        [
            asn1_x509.RelativeDistinguishedName(
                [asn1_x509.NameTypeAndValue({"type": a["type"], "value": a["value"]}) for a in rdn]
            )
            for rdn in rdns
        ]
    )
    return asn1_x509.Name(name="", value=seq).dump()


def test_issuer_with_reordered_rdns_matches_by_attribute_set() -> None:
    p = pki()
    files = dg_files()
    raw = _signed_raw(p, files)
    cert = asn1_x509.Certificate.load(p.dsc_der)
    reordered = _reordered_issuer(p)
    assert reordered.dump() != cert.issuer.dump()
    sid = cms.SignerIdentifier(
        {"issuer_and_serial_number": {"issuer": reordered, "serial_number": cert.serial_number}}
    )
    parsed = sod_mod.parse(_with_sid(raw, sid))
    assert parsed.find_signer() == (p.dsc_der, "issuer_and_serial_any_order")
    result = check(parsed, files, p.store())
    assert (result.verdict, result.signer_match) == ("verified", "issuer_and_serial_any_order")
    assert result.to_json()["signer_match"] == "issuer_and_serial_any_order"
    assert check(sod_mod.parse(raw), files, p.store()).signer_match == "issuer_and_serial"


def test_reordered_issuer_with_another_serial_is_not_that_certificate() -> None:
    p = pki()
    files = dg_files()
    raw = _signed_raw(p, files)
    other = make_dsc(p.csca_name, p.csca_key, ec_key("other-dsc"), serial=2002)
    sid = cms.SignerIdentifier(
        {"issuer_and_serial_number": {"issuer": _reordered_issuer(p), "serial_number": 999}}
    )
    parsed = sod_mod.parse(_with_sid(raw, sid, (other,)))
    assert parsed.find_signer() is None
    result = check(parsed, files, p.store())
    assert (result.verdict, result.signer_match) == ("failed", None)
    assert result.reasons == ("The SOD does not carry its document signer's certificate",)


def test_subject_key_identifier_sid() -> None:
    p = pki()
    files = dg_files()
    raw = _signed_raw(p, files)
    ski = (
        x509.load_der_x509_certificate(p.dsc_der)
        .extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        .value.digest
    )
    other = make_dsc(p.csca_name, p.csca_key, ec_key("other-dsc"), serial=2002)
    sid = cms.SignerIdentifier({"subject_key_identifier": ski})
    result = check(sod_mod.parse(_with_sid(raw, sid, (other,))), files, p.store())
    assert (result.verdict, result.signer_match) == ("verified", "subject_key_identifier")


def test_the_only_certificate_is_tried_and_the_signature_decides() -> None:
    p = pki()
    files = dg_files()
    raw = _signed_raw(p, files)
    cert = asn1_x509.Certificate.load(p.dsc_der)
    sid = cms.SignerIdentifier(
        {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": 424242}}
    )
    result = check(sod_mod.parse(_with_sid(raw, sid)), files, p.store())
    assert (result.verdict, result.signer_match) == ("verified", "only_certificate")
    # A lone certificate that did not sign: found, but the signature says no.
    stranger = make_dsc(p.csca_name, p.csca_key, ec_key("stranger"), serial=3003)
    info = cms.ContentInfo.load(unwrap(raw, 0x77, "EF.SOD", len(raw)))
    info["content"]["certificates"] = [
        cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(stranger)})
    ]
    swapped = sod_mod.parse(tlv.encode(0x77, info.dump(force=True)))
    bad = check(swapped, files, p.store())
    assert (bad.verdict, bad.signature, bad.signer_match) == (
        "failed",
        "invalid",
        "only_certificate",
    )


# ------------------------------------------------------------------ signed attributes' order


def _reorder_signed_attrs(p: Pki, raw: bytes, sign: str) -> bytes:
    """The SOD with its signed attributes in reverse (non-DER) order, definite lengths, signed
    over the bytes as sent (``sign="received"``) or over their DER SET (``"der"``)."""
    ci = tlv.decode(unwrap(raw, 0x77, "EF.SOD", len(raw)))
    oid, wrapper = ci.children
    sd = wrapper.children[0]
    si = sd.children[-1].children[0]
    kids = list(si.children)
    at = next(i for i, k in enumerate(kids) if k.tag == 0xA0)
    reordered = kids[at].children[::-1]
    body = b"".join(k.encode() for k in reordered)
    der = b"\x31" + tlv.encode(0xA0, kids[at].value)[1:]
    signed = tlv.encode(0x31, body) if sign == "received" else der
    assert isinstance(p.dsc_key, ec.EllipticCurvePrivateKey)
    signature = p.dsc_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    kids[at] = tlv.TLV(0xA0, body)
    sig_at = next(i for i, k in enumerate(kids) if k.tag == 0x04)
    kids[sig_at] = tlv.TLV(0x04, signature)
    new_si = tlv.encode(0x30, b"".join(k.encode() for k in kids))
    new_sd = b"".join(k.encode() for k in sd.children[:-1]) + tlv.encode(0x31, new_si)
    content = tlv.encode(0xA0, tlv.encode(0x30, new_sd))
    return tlv.encode(0x77, tlv.encode(0x30, oid.encode() + content))


@pytest.mark.parametrize("sign", ["received", "der"])
def test_signed_attributes_out_of_der_order_verify_either_way(sign: str) -> None:
    """A signer that sent its attributes unsorted (definite lengths, so not BER): whether it
    signed the bytes it sent or their DER SET, the signature is valid; nothing else is."""
    p = pki()
    files = dg_files()
    raw = _reorder_signed_attrs(p, _signed_raw(p, files), sign)
    parsed = sod_mod.parse(raw)
    si = parsed.signer_info
    assert si.signed_attrs_received is not None  # really not the DER order
    assert si.signed_attrs_der is not None and si.signed_attrs_der != si.signed_attrs
    result = check(parsed, files, p.store())
    assert (result.verdict, result.signature) == ("verified", "valid")
    forged = _reorder_signed_attrs(pki("forger"), _signed_raw(p, files), sign)
    assert check(sod_mod.parse(forged), files, p.store()).signature == "invalid"


def test_reference_like_sod_every_tolerance_at_once() -> None:
    """What the BSI TR-03105-5 / ETSI reference SODs exercise, in one document (those files
    are not available here): LDS v1 with ldsVersionInfo, a SignerInfo v3 naming its signer
    by subject key identifier, no signingTime, BER indefinite lengths — verified like its
    DER twin, the validity then checked against nothing (a note at most), the chain cached."""
    p = pki("reference")
    files = dg_files()
    pairs = tuple(sorted((int(k[2:]), hashlib.sha256(v).digest()) for k, v in files.items()))
    lso = sod_mod.LDSSecurityObject(1, "sha256", pairs, ("0108", "040000"))
    der = sod_mod.encode(lso, signer_cert_der=p.dsc_der, signer_key=p.dsc_key)
    ski = (
        x509.load_der_x509_certificate(p.dsc_der)
        .extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        .value.digest
    )
    der = _with_sid(der, cms.SignerIdentifier({"subject_key_identifier": ski}))
    ber = _ber_sod(der)
    store = p.store()
    results = [check(sod_mod.parse(raw), files, store) for raw in (der, ber, ber)]
    for result in results:
        assert (result.verdict, result.signature, result.chain) == ("verified", "valid", "trusted")
        assert (result.signer_match, result.reference, result.signing_time) == (
            "subject_key_identifier",
            "unknown",
            None,
        )
        assert result.to_json() == results[0].to_json()
    assert sod_mod.parse(ber).lds_security_object.lds_version == ("0108", "040000")
