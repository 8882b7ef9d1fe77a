"""Passive authentication done the way pymrtd does it: the yardstick of ``make bench auth``.

pymrtd (ZeroPass, <https://github.com/ZeroPass/pymrtd>, version 0.6.5, commit
``3731a0e45999d7924499393a0da5826436dffd38``, 2024-05-20) is **not on PyPI**
(``pip download pymrtd`` finds no distribution), and it could not be installed beside
this project anyway: it pins ``cryptography==41.0.3`` and, on import, monkey-patches
``cryptography.hazmat.backends.openssl.ec._EllipticCurvePublicKey``, a private module
that cryptography removed in version 42 (this project runs 46+). So this module is a
**reimplementation of pymrtd's passive-authentication steps**, read from that commit
(``src/pymrtd/ef/sod.py``, ``pki/cms.py``, ``pki/x509.py``, ``pki/cert_utils.py``,
``pki/keys.py``, ``ef/base.py``), on the same libraries it uses (asn1crypto,
cryptography), written here for the benchmark — not pymrtd's code. Per card, nothing
is kept from the previous card, as with pymrtd:

1. ``SOD.load``: the outer ``77`` parsed with ``asn1crypto.parser``, its content as a
   CMS ContentInfo; content type ``signed_data``, SignedData version ``v3``, the
   eContentType and the LDSSecurityObject's version checked (which parses it);
2. ``SOD.getDscCertificate``: the carried certificate whose serial number equals the
   SignerInfo's and whose issuer Name equals it (asn1crypto's Name equality), or by
   subject key identifier;
3. ``SOD.verify(si, dsc)`` = ``MrtdSignedData.verify``: signed content type equal to
   the eContentType, messageDigest present and equal to the digest of the
   LDSSecurityObject's encoding, then ``SignerInfo.verifySignedAttributes``: the DSC
   valid at the signingTime, the signed attributes re-tagged as a SET and dumped with
   ``force=True``, and ``cert_utils.verify_sig``: the DSC's key loaded from its
   SubjectPublicKeyInfo (``load_der_public_key``), an ECDSA signature turned to plain
   r‖s and back to X9.62, the signature checked with cryptography;
4. the CSCA: pymrtd has no trust store (its users keep CSCAs in a database); here the
   CSCAs are parsed **once**, before timing, and indexed by subject Name — the
   cheapest a caller could do, so the comparison does not flatter us — then picked
   by the DSC's issuer Name and authority key identifier, and
   ``DocumentSignerCertificate.verify(csca)``
   (``verify_cert_sig``: its TBS signature under the CSCA's key, loaded again);
5. each data group: ``DataGroup.load`` (``asn1crypto.parser``) and
   ``LDSSecurityObject.contains(dg)``: its entry found, its ``dump()`` hashed and compared.

pymrtd's quirks are kept, since they are its behaviour: ``ECDSA_X962_Signature.toPlain``
pads r and s only when their total length is odd (a TODO in its code), so an ECDSA
signature whose r carries a leading zero octet while s is one octet short comes out
wrong and is refused ("SOD signature"), and the signer is matched by exact issuer Name
(a Malaysian SOD's reordered RDNs: "no DSC"). Only what pymrtd's own steps accept is
timed; :func:`verify` raises :class:`StepsError` otherwise. One stand-in: a key with
explicit EC parameters (pymrtd loads it through OpenSSL and names the curve with its
monkey patch; current cryptography refuses it) is loaded with the kiosk's
:func:`~kiosk.emrtd.certs.load_public_key`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import asn1crypto.core as asn1
from asn1crypto import algos, cms, x509
from asn1crypto import parser as asn1_parser
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kiosk.emrtd.certs import load_public_key

_HASH: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_LDS_OID = "2.23.136.1.1.1"
_Fields = list[tuple[Any, ...]]


class StepsError(Exception):
    """The document fails (or cannot go through) pymrtd's steps."""


class _DataGroupHash(asn1.Sequence):
    _fields: ClassVar[_Fields] = [
        ("dataGroupNumber", asn1.Integer),
        ("dataGroupHashValue", asn1.OctetString),
    ]


class _DataGroupHashValues(asn1.SequenceOf):
    _child_spec = _DataGroupHash


class _LDSVersionInfo(asn1.Sequence):
    _fields: ClassVar[_Fields] = [
        ("ldsVersion", asn1.PrintableString),
        ("unicodeVersion", asn1.PrintableString),
    ]


class _LDSSecurityObject(asn1.Sequence):
    _fields: ClassVar[_Fields] = [
        ("version", asn1.Integer),
        ("hashAlgorithm", algos.DigestAlgorithm),
        ("dataGroupHashValues", _DataGroupHashValues),
        ("ldsVersionInfo", _LDSVersionInfo, {"optional": True}),
    ]


class _X962Signature(asn1.Sequence):
    _fields: ClassVar[_Fields] = [("r", asn1.Integer), ("s", asn1.Integer)]

    def to_plain(self) -> bytes:
        r, s = self["r"].contents, self["s"].contents
        if (len(r) + len(s)) % 2:
            if len(r) < len(s):
                r = b"\x00" * (len(s) - len(r)) + r
            else:
                s = b"\x00" * (len(r) - len(s)) + s
        return bytes(r + s)

    @classmethod
    def from_plain(cls, plain: bytes) -> _X962Signature:
        half = len(plain) // 2
        return cls(
            {"r": int.from_bytes(plain[:half], "big"), "s": int.from_bytes(plain[half:], "big")}
        )


class CscaIndex:
    """CSCAs parsed once and indexed by subject Name (what a pymrtd caller's database does)."""

    def __init__(self, ders: Iterable[bytes]) -> None:
        self.by_subject: dict[str, list[x509.Certificate]] = {}
        for der in ders:
            cert = x509.Certificate.load(der)
            self.by_subject.setdefault(cert.subject.hashable, []).append(cert)

    def find(self, dsc: x509.Certificate) -> x509.Certificate | None:
        group = self.by_subject.get(dsc.issuer.hashable, [])
        aki = dsc.authority_key_identifier
        for cert in group:
            if aki is None or cert.key_identifier == aki:
                return cert
        return group[0] if group else None


def _sig_algo(sig_algo: algos.SignedDigestAlgorithm, hash_algo: str) -> algos.SignedDigestAlgorithm:
    """``algo_utils.update_sig_algo_if_no_hash_algo``."""
    name = sig_algo["algorithm"].native
    if name in ("rsassa_pkcs1v15", "ecdsa"):
        base = "rsa" if name == "rsassa_pkcs1v15" else "ecdsa"
        return algos.SignedDigestAlgorithm({"algorithm": f"{hash_algo}_{base}"})
    return sig_algo


def _verify_sig(
    signing_cert: x509.Certificate,
    message: bytes,
    signature: bytes,
    sig_algo: algos.SignedDigestAlgorithm,
) -> bool:
    """``cert_utils.verify_sig`` + ``keys.PublicKey.verifySignature``."""
    spki = signing_cert.public_key.dump()
    try:
        key = serialization.load_der_public_key(spki)
    except UnsupportedAlgorithm:
        # Explicit EC parameters: pymrtd loads them through OpenSSL and names the curve with
        # its monkey patch; current cryptography refuses them, so the kiosk's own loader
        # (parameters matched to the named curve) stands in for that step.
        key = load_public_key(spki)
    except (ValueError, TypeError) as exc:
        raise StepsError(f"key not loadable: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        # verify_sig makes it plain r||s, verifySignature makes that X9.62 again.
        signature = _X962Signature.from_plain(_X962Signature.load(signature).to_plain()).dump()
    name = sig_algo.signature_algo
    if name == "rsassa_pss":
        params = sig_algo["parameters"]
        mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        hash_name = params["hash_algorithm"]["algorithm"].native
    else:
        hash_name = sig_algo.hash_algo
    hash_alg = _HASH[hash_name]()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if name == "rsassa_pss":
                pss = padding.PSS(padding.MGF1(_HASH[mgf_hash]()), params["salt_length"].native)
                key.verify(signature, message, pss, hash_alg)
            else:
                key.verify(signature, message, padding.PKCS1v15(), hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_alg))
        else:
            raise StepsError(f"unsupported key {type(key).__name__}")
    except InvalidSignature:
        return False
    return True


def _valid_on(cert: x509.Certificate, when: dt.datetime) -> bool:
    """``Certificate.isValidOn``."""
    nvb = cert.not_valid_before.replace(tzinfo=None)
    nva = cert.not_valid_after.replace(tzinfo=None)
    return nvb < when.replace(tzinfo=None) < nva


def verify(raw_sod: bytes, files: Mapping[str, bytes], cscas: CscaIndex) -> str:
    """pymrtd's passive authentication of one card; ``"verified"`` or :class:`StepsError`."""
    # 1. SOD.load
    _class, _method, _tag, _header, contents, _trailer = asn1_parser.parse(raw_sod)
    ci = cms.ContentInfo.load(contents)
    if ci["content_type"].native != "signed_data":
        raise StepsError("not signed data")
    sd = ci["content"]
    if sd["version"].native != "v3":
        raise StepsError("SignedData version")
    encap = sd["encap_content_info"]
    if encap["content_type"].dotted != _LDS_OID:
        raise StepsError("eContentType")
    lso = encap["content"].parse(_LDSSecurityObject)
    if not 0 <= lso["version"].native <= 1:
        raise StepsError("LDSSecurityObject version")
    si = sd["signer_infos"][0]
    # 2. getDscCertificate
    sid = si["sid"]
    dsc = None
    for choice in sd["certificates"]:
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            sni = sid.chosen
            if cert.serial_number == sni["serial_number"].native and cert.issuer == sni["issuer"]:
                dsc = cert
                break
        elif cert.key_identifier == sid.native:
            dsc = cert
            break
    if dsc is None:
        raise StepsError("no DSC")
    # 3. SOD.verify(si, dsc)
    attrs = si["signed_attrs"]
    content_type = digest = signing_time = None
    for a in attrs:
        kind = a["type"].native
        if kind == "content_type":
            content_type = a["values"][0]
        elif kind == "message_digest":
            digest = a["values"][0].native
        elif kind == "signing_time":
            signing_time = a["values"][0].native
    if content_type != encap["content_type"]:
        raise StepsError("signed content type")
    if digest is None:
        raise StepsError("no messageDigest")
    hash_name = si["digest_algorithm"]["algorithm"].native
    h = hashes.Hash(_HASH[hash_name]())
    h.update(lso.dump())
    if h.finalize() != digest:
        raise StepsError("content digest")
    if signing_time is not None and not _valid_on(dsc, signing_time):
        raise StepsError("signing time outside the DSC's validity")
    attrs.tag, attrs.method, attrs.class_ = 17, 1, 0
    sig_algo = _sig_algo(si["signature_algorithm"], hash_name)
    if not _verify_sig(dsc, attrs.dump(force=True), si["signature"].native, sig_algo):
        raise StepsError("SOD signature")
    # 4. the CSCA, and DocumentSignerCertificate.verify(csca)
    csca = cscas.find(dsc)
    if csca is None:
        raise StepsError("CSCA not found")
    tbs = dsc["tbs_certificate"]
    if not _verify_sig(csca, tbs.dump(), dsc.signature, tbs["signature"]):
        raise StepsError("DSC not signed by the CSCA")
    # 5. data groups: DataGroup.load + LDSSecurityObject.contains
    hashes_by_number = lso["dataGroupHashValues"]
    lso_hash = lso["hashAlgorithm"]["algorithm"].native
    for name, raw in files.items():
        if not name.startswith("DG"):
            continue
        number = int(name[2:])
        _c, _m, _t, header, body, _tr = asn1_parser.parse(raw)
        dg_bytes = header + body
        entry = None
        for item in hashes_by_number:
            if item["dataGroupNumber"].native == number:
                entry = item
                break
        if entry is None:
            raise StepsError(f"{name} not in the SOD")
        dh = hashes.Hash(_HASH[lso_hash]())
        dh.update(dg_bytes)
        if dh.finalize() != entry["dataGroupHashValue"].native:
            raise StepsError(f"{name} hash")
    return "verified"
