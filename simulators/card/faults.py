"""Faulty cards for negative tests: altered data groups, SODs signed by strangers, torn reads.

Each function takes personalised :class:`CardFiles` and returns a changed
copy; the chip itself stays honest, so what the reader sees is exactly a
card whose *content* is wrong. Card removal mid-read is a chip feature
(:meth:`Chip.remove_after`); :func:`make_faulty_chip` wires both up by name.

* ``tampered-dg1`` / ``tampered-dg13`` / ``tampered-dg2``: one byte of the
  data group changed after signing → passive authentication must report the
  hash mismatch for that group.
* ``foreign-signer``: EF.SOD re-signed by a Document Signer under a different
  (self-made) CSCA → "issuer unknown", not "verified".
* ``bad-signature``: one byte of the SOD signature changed → signature fails.
* ``tear-N``: the card leaves the field after N APDUs → CardRemoved.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.emrtd.lds import sod as sod_mod
from simulators.card.chip import CardFiles, Chip
from simulators.card.profile import SimulatorError

FAULTS = ("tampered-dg1", "tampered-dg2", "tampered-dg13", "foreign-signer", "bad-signature")


class FaultError(SimulatorError):
    """An unknown fault name or a fault that does not apply to this card."""


def tamper_dg(files: CardFiles, dg: int) -> CardFiles:
    """Flip one bit in the last byte of DG ``dg`` (the SOD still holds the old hash)."""
    if dg not in files.dgs:
        raise FaultError(f"the card has no DG{dg}")
    data = bytearray(files.dgs[dg])
    data[-1] ^= 0x01
    dgs = dict(files.dgs)
    dgs[dg] = bytes(data)
    return replace(files, dgs=dgs)


def _stranger() -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    """A Document Signer certificate under a throw-away CSCA nobody trusts."""
    curve = ec.SECP256R1()
    ca_key = ec.generate_private_key(curve)
    ds_key = ec.generate_private_key(curve)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Untrusted Test CSCA")])
    ds_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Untrusted Test DS")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(ds_name)
        .issuer_name(ca_name)
        .public_key(ds_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER), ds_key


def foreign_signer(files: CardFiles) -> CardFiles:
    """Re-sign the same LDSSecurityObject with a DS that does not chain to the test CSCA."""
    parsed = sod_mod.parse(files.sod)
    cert_der, key = _stranger()
    new = sod_mod.encode(
        parsed.lds_security_object,
        signer_cert_der=cert_der,
        signer_key=key,
        digest_algorithm=parsed.signer_info.digest_algorithm,
        signing_time=parsed.signer_info.signing_time,
    )
    return replace(files, sod=new)


def bad_signature(files: CardFiles) -> CardFiles:
    """Change one byte inside the SOD's signature value (found by searching the parsed bytes)."""
    signature = sod_mod.parse(files.sod).signer_info.signature
    at = files.sod.rfind(signature)
    if at < 0:
        raise FaultError("signature bytes not found in EF.SOD")
    data = bytearray(files.sod)
    data[at + len(signature) // 2] ^= 0x01
    return replace(files, sod=bytes(data))


def apply_fault(files: CardFiles, fault: str) -> CardFiles:
    """Apply a named fault from :data:`FAULTS` (``tear-N`` is handled by the chip)."""
    m = re.fullmatch(r"tampered-dg(\d+)", fault)
    if m:
        return tamper_dg(files, int(m.group(1)))
    if fault == "foreign-signer":
        return foreign_signer(files)
    if fault == "bad-signature":
        return bad_signature(files)
    raise FaultError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}, tear-N")


def make_faulty_chip(name: str, fault: str, **options: Any) -> Chip:
    """The sample card ``name`` with ``fault`` applied (see the module docstring)."""
    from simulators.card.personalize import make_chip

    chip = make_chip(name, **options)
    m = re.fullmatch(r"tear-(\d+)", fault)
    if m:
        chip.remove_after(int(m.group(1)))
        return chip
    return Chip(apply_fault(chip.files, fault), chip.options, rng=chip.rng)
