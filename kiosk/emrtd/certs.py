"""Signature verification for every algorithm eMRTDs use, and a tolerant X.509 certificate wrapper.

Why this module exists: passive authentication, the master-list signer check
and CRL checks all verify signatures with keys and algorithm identifiers taken
from real-world certificates. Those use RSA PKCS#1 v1.5, RSASSA-PSS with
explicit parameters, ECDSA on NIST and brainpool curves, EC keys with explicit
domain parameters (``specifiedCurve``), and encodings that are not strict DER
(NULL parameters after an ECDSA OID, non-positive serial numbers).
``cryptography`` refuses several of these at load time, so certificates are
parsed with asn1crypto (lazily, keeping the exact ``tbsCertificate`` bytes that
were signed) and ``cryptography`` only does the signature mathematics.

* :func:`verify_signature` checks one signature: ``True`` / ``False``. It raises
  :class:`SignatureAlgorithmError` or :class:`PublicKeyError` only when the
  inputs cannot be used at all (unknown algorithm, key type mismatch, bad PSS
  parameters, a curve OpenSSL cannot compute on).
* :class:`Certificate` wraps one DER certificate; :meth:`Certificate.from_der`
  raises :class:`CertificateError` when the certificate is unreadable or its
  key unusable, which the trust store counts as a skipped certificate. Lesser
  irregularities are kept in :attr:`Certificate.warnings` and counted.

All errors here derive from :class:`PassiveAuthError` (itself an
:class:`~kiosk.emrtd.errors.EmrtdError`); each carries a short ``reason``
code used to count skips.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from asn1crypto import algos, core, keys, x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.emrtd.errors import EmrtdError, LDSParseError
from kiosk.emrtd.lds._common import ASN1_ERRORS
from kiosk.emrtd.lds.dg15 import public_key_from_spki

_KEY_ERRORS: tuple[type[Exception], ...] = (UnsupportedAlgorithm, *ASN1_ERRORS)

#: A public key ``cryptography`` can verify with.
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class PassiveAuthError(EmrtdError):
    """Base class of passive-authentication and trust-store input errors.

    ``reason`` is a short stable code (``"unreadable"``, ``"unsupported_curve"``…)
    used to count skipped items; the message says the same for people.
    """

    def __init__(self, message: str, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


class SignatureAlgorithmError(PassiveAuthError):
    """A signature algorithm is unknown, badly parameterised or does not fit the key."""


class PublicKeyError(PassiveAuthError):
    """A public key cannot be loaded or used (unknown algorithm or curve, invalid key)."""


class CertificateError(PassiveAuthError):
    """A certificate is unreadable, or holds nothing this kiosk can use."""


# --------------------------------------------------------------------------- algorithms

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

#: BSI TR-03111 ecdsa-plain-SHA* (signature as r||s), used by Active Authentication.
_ECDSA_PLAIN = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
_RSA_PKCS1 = {f"{h}_rsa": h for h in _HASHES}
_ECDSA = {f"{h}_ecdsa": h for h in _HASHES}
#: OIDs that name a key type rather than a signature; the hash then comes from elsewhere
#: (a SignerInfo's digestAlgorithm). asn1crypto calls rsaEncryption "rsassa_pkcs1v15".
_RSA_BARE = ("rsassa_pkcs1v15", "rsa")
_ECDSA_BARE = ("ecdsa", "ec")


@dataclass(frozen=True)
class SignatureScheme:
    """A fully resolved signature scheme.

    ``kind`` is ``"rsa_pkcs1v15"``, ``"rsa_pss"``, ``"ecdsa"`` (DER signature)
    or ``"ecdsa_plain"`` (r||s); ``hash`` the message hash name; for PSS also
    ``mgf_hash`` and ``salt_length``.
    """

    kind: str
    hash: str
    mgf_hash: str | None = None
    salt_length: int | None = None

    @property
    def name(self) -> str:
        """A readable name such as ``"ecdsa-sha256"`` or ``"rsa-pss-sha256"``."""
        return f"{self.kind.replace('_', '-')}-{self.hash}"


def _hash_name(alg: algos.DigestAlgorithm) -> str:
    oid = alg["algorithm"]
    name = oid.native
    if name not in _HASHES:
        raise SignatureAlgorithmError(
            f"unsupported hash algorithm {name or oid.dotted}", "unsupported_algorithm"
        )
    return str(name)


def _pss_scheme(params: Any) -> SignatureScheme:
    """RSASSA-PSS parameters (RFC 4055; defaults SHA-1, MGF1-SHA-1, salt 20, trailer 1)."""
    try:
        if params is None or isinstance(params, core.Void):
            params = algos.RSASSAPSSParams({})
        elif isinstance(params, bytes):
            params = algos.RSASSAPSSParams.load(params)
        elif not isinstance(params, algos.RSASSAPSSParams):
            params = algos.RSASSAPSSParams.load(params.dump())
        digest = _hash_name(params["hash_algorithm"])
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].native != "mgf1":
            raise SignatureAlgorithmError(
                f"RSA-PSS mask generation {mgf['algorithm'].dotted} is not MGF1",
                "unsupported_algorithm",
            )
        mgf_hash = _hash_name(mgf["parameters"])
        salt = int(params["salt_length"].native)
        trailer = params["trailer_field"].native
    except PassiveAuthError:
        raise
    except ASN1_ERRORS as exc:
        raise SignatureAlgorithmError(f"bad RSA-PSS parameters: {exc}", "bad_parameters") from exc
    if trailer not in (1, "trailer_field_bc"):
        raise SignatureAlgorithmError(f"RSA-PSS trailer field {trailer}", "bad_parameters")
    if not 0 <= salt <= 1024:
        raise SignatureAlgorithmError(f"RSA-PSS salt length {salt}", "bad_parameters")
    return SignatureScheme("rsa_pss", digest, mgf_hash, salt)


def signature_scheme(
    algorithm: algos.SignedDigestAlgorithm | SignatureScheme | str,
    parameters: bytes | Any = None,
    *,
    digest: str | None = None,
) -> SignatureScheme:
    """Resolve a signature algorithm identifier to a :class:`SignatureScheme`.

    ``algorithm`` is an asn1crypto ``SignedDigestAlgorithm`` (parameters taken
    from it), a scheme (returned as is), or an asn1crypto name / dotted OID
    (``"sha256_rsa"``, ``"rsassa_pss"``, ``"1.2.840.10045.4.3.2"``) with
    ``parameters`` as DER or an asn1crypto value. ``digest`` supplies the hash
    when the OID names only a key type (rsaEncryption or id-ecPublicKey used as
    a signature algorithm, as some SODs do). Raises :class:`SignatureAlgorithmError`.
    """
    if isinstance(algorithm, SignatureScheme):
        return algorithm
    try:
        if isinstance(algorithm, algos.SignedDigestAlgorithm):
            oid = str(algorithm["algorithm"].dotted)
            parameters = algorithm["parameters"]
        else:
            oid = str(algos.SignedDigestAlgorithmId(algorithm).dotted)
        name = algos.SignedDigestAlgorithmId(oid).native
    except ASN1_ERRORS as exc:
        raise SignatureAlgorithmError(
            f"unreadable signature algorithm {algorithm!r}: {exc}", "unsupported_algorithm"
        ) from exc
    if oid in _ECDSA_PLAIN:
        return SignatureScheme("ecdsa_plain", _ECDSA_PLAIN[oid])
    if name in _RSA_PKCS1:
        return SignatureScheme("rsa_pkcs1v15", _RSA_PKCS1[name])
    if name in _ECDSA:
        return SignatureScheme("ecdsa", _ECDSA[name])
    if name == "rsassa_pss":
        return _pss_scheme(parameters)
    if name in _RSA_BARE + _ECDSA_BARE or oid == "1.2.840.10045.2.1":
        if digest not in _HASHES:
            raise SignatureAlgorithmError(
                f"signature algorithm {name} needs a hash algorithm (got {digest})",
                "unsupported_algorithm",
            )
        kind = "rsa_pkcs1v15" if name in _RSA_BARE else "ecdsa"
        return SignatureScheme(kind, str(digest))
    raise SignatureAlgorithmError(
        f"unsupported signature algorithm {name or oid}", "unsupported_algorithm"
    )


# --------------------------------------------------------------------------- keys


def load_public_key(spki: bytes | keys.PublicKeyInfo) -> PublicKey:
    """A ``cryptography`` key from a SubjectPublicKeyInfo (DER or asn1crypto).

    RSA (also under the id-RSASSA-PSS key OID), and EC with a named curve or
    explicit domain parameters matched to a NIST or brainpool curve. Raises
    :class:`PublicKeyError` (reason ``"unsupported_key"``, ``"unsupported_curve"``
    or ``"invalid_key"``).
    """
    try:
        info = spki if isinstance(spki, keys.PublicKeyInfo) else keys.PublicKeyInfo.load(spki)
        name = info["algorithm"]["algorithm"].native
        if name == "rsassa_pss":
            # RFC 4055 RSASSA-PSS key: an ordinary RSAPublicKey, restricted to PSS.
            parsed = info["public_key"].parsed
            n, e = int(parsed["modulus"].native), int(parsed["public_exponent"].native)
            return rsa.RSAPublicNumbers(e, n).public_key()
        der = info.dump()
    except ASN1_ERRORS as exc:
        raise PublicKeyError(f"unreadable public key: {exc}", "invalid_key") from exc
    if name not in ("rsa", "ec"):
        raise PublicKeyError(f"unsupported public key algorithm {name}", "unsupported_key")
    try:
        key = public_key_from_spki(der)
    except LDSParseError as exc:
        text = str(exc)
        curve_words = ("curve", "explicit", "binary field", "OpenSSL")
        reason = "unsupported_curve" if any(w in text for w in curve_words) else "invalid_key"
        raise PublicKeyError(text, reason) from exc
    except _KEY_ERRORS as exc:
        raise PublicKeyError(f"unusable public key: {exc}", "invalid_key") from exc
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise PublicKeyError(f"unsupported key type {type(key).__name__}", "unsupported_key")
    return key


# --------------------------------------------------------------------------- verification


def _ecdsa_der(signature: bytes, plain: bool) -> bytes | None:
    """The DER ECDSA signature for ``cryptography``, or None when it is not one."""
    if plain:
        if not signature or len(signature) % 2:
            return None
        half = len(signature) // 2
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
    else:
        try:
            # Lenient parse: some signers emit non-minimal integers; the values are what count.
            sig = algos.DSASignature.load(signature)
            r, s = int(sig["r"].native), int(sig["s"].native)
        except ASN1_ERRORS:
            return None
    if r <= 0 or s <= 0:
        return None
    return encode_dss_signature(r, s)


def verify_signature(
    key: PublicKey | bytes | keys.PublicKeyInfo,
    algorithm: algos.SignedDigestAlgorithm | SignatureScheme | str,
    data: bytes,
    signature: bytes,
    *,
    parameters: bytes | Any = None,
    digest: str | None = None,
) -> bool:
    """True when ``signature`` over ``data`` verifies with ``key`` under ``algorithm``.

    ``key`` is a ``cryptography`` key or a SubjectPublicKeyInfo (DER or
    asn1crypto; explicit EC parameters are fine). ``algorithm``, ``parameters``
    and ``digest`` are as for :func:`signature_scheme`. ECDSA signatures are
    DER, or plain r||s for the ecdsa-plain OIDs (or a scheme of kind
    ``"ecdsa_plain"``). A wrong signature is ``False``; unusable inputs raise
    :class:`SignatureAlgorithmError` or :class:`PublicKeyError`.
    """
    scheme = signature_scheme(algorithm, parameters, digest=digest)
    pub = key if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) else None
    if pub is None:
        pub = load_public_key(key)
    hash_alg = _HASHES[scheme.hash]()
    data, signature = bytes(data), bytes(signature)
    try:
        if scheme.kind in ("rsa_pkcs1v15", "rsa_pss"):
            if not isinstance(pub, rsa.RSAPublicKey):
                raise SignatureAlgorithmError(
                    f"{scheme.name} signature with a non-RSA key", "key_mismatch"
                )
            if scheme.kind == "rsa_pkcs1v15":
                pub.verify(signature, data, padding.PKCS1v15(), hash_alg)
            else:
                mgf = padding.MGF1(_HASHES[scheme.mgf_hash or scheme.hash]())
                pub.verify(signature, data, padding.PSS(mgf, scheme.salt_length or 0), hash_alg)
            return True
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise SignatureAlgorithmError(
                f"{scheme.name} signature with a non-EC key", "key_mismatch"
            )
        der = _ecdsa_der(signature, scheme.kind == "ecdsa_plain")
        if der is None:
            return False
        pub.verify(der, data, ec.ECDSA(hash_alg))
        return True
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        # ValueError: e.g. a PSS salt longer than the modulus allows; never a valid signature.
        return False


# --------------------------------------------------------------------------- names


_NAME_KEYS = {
    "country_name": "C",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "common_name": "CN",
    "serial_number": "SERIALNUMBER",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "email_address": "E",
}


def name_text(name: x509.Name) -> str:
    """A Name as RFC 4514-style text, most specific first: ``"CN=…, O=…, C=VN"``."""
    parts: list[str] = []
    try:
        for rdn in reversed(list(name.chosen)):
            for atv in rdn:
                kind = atv["type"].native
                key = _NAME_KEYS.get(str(kind), str(atv["type"].dotted))
                value = atv["value"].native
                parts.append(f"{key}={value}")
    except ASN1_ERRORS:
        return "(unreadable name)"
    return ", ".join(parts)


def name_key(name: x509.Name) -> str:
    """A comparison key for a Name (RFC 5280 §7.1-style normalisation: case, spaces)."""
    return str(name.hashable)


# --------------------------------------------------------------------------- certificates


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, eq=False)
class Certificate:
    """One X.509 certificate, parsed tolerantly with asn1crypto.

    Fields are read once by :meth:`from_der`; the public key is loaded on first
    use and cached. ``warnings`` lists irregularities that were tolerated
    (e.g. ``"ecdsa_null_parameters"``, ``"serial_not_positive"``,
    ``"trailing_data"``). Equality is by DER bytes.
    """

    der: bytes
    subject: str
    issuer: str
    subject_key: str
    issuer_key: str
    serial_number: int
    not_before: dt.datetime
    not_after: dt.datetime
    subject_key_identifier: bytes | None
    authority_key_identifier: bytes | None
    is_ca: bool | None
    key_usage: frozenset[str] | None
    warnings: tuple[str, ...] = ()
    asn1: x509.Certificate = field(repr=False, default=None)

    @classmethod
    def from_der(cls, der: bytes, *, load_key: bool = False) -> Certificate:
        """Parse a DER certificate; with ``load_key`` also check that its key is usable.

        Raises :class:`CertificateError` (reason ``"unreadable"``, or the key's
        reason) when the certificate cannot be used.
        """
        der = bytes(der)
        warnings: list[str] = []
        try:
            cert = x509.Certificate.load(der)
            if len(cert.dump()) != len(der):
                warnings.append("trailing_data")
                der = cert.dump()
            tbs = cert["tbs_certificate"]
            serial_obj = tbs["serial_number"]
            serial = int(serial_obj.native)
            if serial <= 0:
                warnings.append("serial_not_positive")
            for alg in (tbs["signature"], cert["signature_algorithm"]):
                if alg["algorithm"].native in _ECDSA and not isinstance(
                    alg["parameters"], core.Void
                ):
                    warnings.append("ecdsa_null_parameters")
                    break
            if tbs["signature"].dump() != cert["signature_algorithm"].dump():
                warnings.append("signature_algorithm_mismatch")
            validity = tbs["validity"]
            not_before = _utc(validity["not_before"].native)
            not_after = _utc(validity["not_after"].native)
            ski = cert.key_identifier
            aki = cert.authority_key_identifier
            bc = cert.basic_constraints_value
            ku = cert.key_usage_value
            result = cls(
                der=der,
                subject=name_text(cert.subject),
                issuer=name_text(cert.issuer),
                subject_key=name_key(cert.subject),
                issuer_key=name_key(cert.issuer),
                serial_number=serial,
                not_before=not_before,
                not_after=not_after,
                subject_key_identifier=bytes(ski) if ski is not None else None,
                authority_key_identifier=bytes(aki) if aki is not None else None,
                is_ca=None if bc is None else bool(bc["ca"].native),
                key_usage=None if ku is None else frozenset(str(k) for k in ku.native),
                warnings=tuple(warnings),
                asn1=cert,
            )
            cert["signature_value"].native  # noqa: B018 - force the lazy parse
            tbs["subject_public_key_info"]["algorithm"].native  # noqa: B018
        except PassiveAuthError:
            raise
        except ASN1_ERRORS as exc:
            raise CertificateError(f"unreadable certificate: {exc}", "unreadable") from exc
        if load_key:
            result.public_key()
        return result

    @classmethod
    def cached(cls, der: bytes) -> Certificate:
        """:meth:`from_der`, remembered by content: thousands of cards carry the same
        document signer, parsed once (a certificate is immutable, its DER is the key)."""
        return _from_der_cached(bytes(der))

    @cached_property
    def _key(self) -> PublicKey | PublicKeyError:
        try:
            return load_public_key(self.asn1["tbs_certificate"]["subject_public_key_info"])
        except PublicKeyError as exc:
            return exc

    def public_key(self) -> PublicKey:
        """The subject's public key; :class:`CertificateError` when it cannot be used."""
        key = self._key
        if isinstance(key, PublicKeyError):
            raise CertificateError(f"{self.subject}: {key}", key.reason) from key
        return key

    @property
    def tbs_der(self) -> bytes:
        """The signed part, byte for byte as received."""
        return bytes(self.asn1["tbs_certificate"].dump())

    @property
    def signature_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The outer signatureAlgorithm."""
        return self.asn1["signature_algorithm"]

    @property
    def signature(self) -> bytes:
        """The signature value."""
        return bytes(self.asn1["signature_value"].native)

    @cached_property
    def fingerprint(self) -> bytes:
        """SHA-256 of the DER certificate."""
        return hashlib.sha256(self.der).digest()

    @property
    def is_self_issued(self) -> bool:
        """Subject and issuer are the same name (a root or a link certificate's peer)."""
        return self.subject_key == self.issuer_key

    def valid_at(self, when: dt.datetime) -> bool:
        """True when ``when`` lies within notBefore..notAfter (inclusive)."""
        return self.not_before <= _utc(when) <= self.not_after

    def signed_by(self, issuer_key: PublicKey) -> bool:
        """True when this certificate's signature verifies with ``issuer_key``.

        Raises :class:`PassiveAuthError` when the algorithm cannot be used with that key.
        """
        return verify_signature(issuer_key, self.signature_algorithm, self.tbs_der, self.signature)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)


#: Distinct certificates remembered by :meth:`Certificate.cached`.
CERTIFICATE_CACHE_SIZE = 1024


@lru_cache(maxsize=CERTIFICATE_CACHE_SIZE)
def _from_der_cached(der: bytes) -> Certificate:
    return Certificate.from_der(der)
