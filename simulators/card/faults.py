"""The simulator's bad cards: each a sample card with one thing wrong, selectable by name.

:func:`make_faulty_chip` gives the sample card ``name`` with a fault from
:data:`FAULTS` (or a family in :data:`FAULT_FAMILIES`). Most faults change
the card's *content* — the files or the keys the chip holds — and leave the
chip honest, so the reader sees exactly a card whose data or keys are wrong;
``bad-sm-mac-N`` and ``tear-N`` change the chip's *behaviour* instead.

What each fault is, and what the kiosk must conclude:

* ``tampered-dgN``: one bit of DG N flipped after signing → passive
  authentication reports the hash mismatch for DG N (``failed``).
* ``forged-signature``: one byte inside the SOD's signature value changed →
  the signature does not verify (``failed``).
* ``untrusted-csca``: the SOD re-signed by a DS under a CSCA the kiosk does
  not trust → intact and signed, issuer unknown (``issuer_unknown``).
* ``impostor-csca``: re-signed by a DS under a CSCA with exactly the trusted
  CSCA's subject and key identifier but another key → the DSC does not
  verify under the trusted CSCA (never ``verified``).
* ``expired-dsc``: re-signed by a DS of the trusted CSCA whose validity has
  ended, with a signing time while it was valid → not a forgery (the trust
  policy decides; the expiry is reported).
* ``expired-dsc-signed-late``: the same DS, signing time after it expired →
  ``failed``.
* ``revoked-dsc``: re-signed by a DS of the trusted CSCA that the CSCA's CRL
  lists (written beside the CSCA, :attr:`TestPKI.crl_path`) → ``failed``.
* ``clone``: the chip's Active Authentication key is not the one in DG15 (a
  copy of the files on another chip) → AA ``failed``; PA still holds.
* ``ca-mismatch``: the chip's Chip Authentication key is not the one in DG14
  → CA ``failed``; PA still holds.
* ``bad-sm-mac-N``: the chip's Nth secure-messaging reply carries a wrong
  MAC → the reader stops with a secure messaging error (``bad-sm-mac``: N=3,
  a READ BINARY early in the read).
* ``tear-N``: the card leaves the field after N APDUs → CardRemoved.

The certificates and keys come from the cached fault PKI
(:func:`simulators.card.pki.load_or_create_fault_pki`) in the simulator home,
so every process sees the same bad cards. Re-signed SODs keep the original
LDSSecurityObject (so the data groups still match) and digest algorithm.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiosk.emrtd.lds import sod as sod_mod
from simulators.card.chip import CardFiles, Chip, Rng
from simulators.card.pki import Signer, load_or_create_fault_pki
from simulators.card.profile import ChipOptions, SimulatorError

__all__ = [
    "ALIASES",
    "DEFAULT_BAD_MAC_REPLY",
    "FAULTS",
    "FAULT_FAMILIES",
    "BadMacChip",
    "FaultError",
    "apply_fault",
    "bad_signature",
    "ca_mismatch",
    "clone",
    "describe",
    "expired_dsc",
    "foreign_signer",
    "forge_signature",
    "impostor_csca",
    "make_faulty_chip",
    "resign_sod",
    "revoked_dsc",
    "tamper_dg",
    "untrusted_csca",
]

#: Which secure-messaging reply ``bad-sm-mac`` spoils: after access control the 1st is
#: SELECT of the eMRTD application, then READ BINARY of EF.SOD (then EF.COM, the DGs).
DEFAULT_BAD_MAC_REPLY = 3

#: Every fault by name, with what it does (one line each). The matrix of bad cards.
FAULTS: Final[Mapping[str, str]] = {
    "tampered-dg1": "DG1 (MRZ) changed after signing: its hash no longer matches the SOD",
    "tampered-dg2": "DG2 (photo) changed after signing: its hash no longer matches the SOD",
    "tampered-dg13": "DG13 (personal data) changed after signing: hash mismatch",
    "tampered-dg14": "DG14 (CA key, security infos) changed after signing: hash mismatch",
    "tampered-dg15": "DG15 (AA public key) changed after signing: hash mismatch",
    "forged-signature": "one byte of the SOD's signature value altered: the signature fails",
    "untrusted-csca": "SOD signed by a DS under a CSCA the kiosk does not trust",
    "impostor-csca": "SOD signed by a DS under a CSCA with the trusted CSCA's name, another key",
    "expired-dsc": "SOD signed while its DS was valid; the DS has expired since (not a forgery)",
    "expired-dsc-signed-late": "SOD signed after its DS (of the trusted CSCA) had expired",
    "revoked-dsc": "SOD signed by a DS of the trusted CSCA that the CSCA's CRL revokes",
    "clone": "the chip's Active Authentication key differs from DG15's (a cloned chip)",
    "ca-mismatch": "the chip's Chip Authentication key differs from DG14's",
    "bad-sm-mac": (
        f"the chip's secure-messaging reply no. {DEFAULT_BAD_MAC_REPLY} carries a wrong MAC"
    ),
}
#: Parametrised faults (N a number); members of the families may be named directly.
FAULT_FAMILIES: Final[Mapping[str, str]] = {
    "tampered-dgN": "DG N changed after signing (one bit of its last byte flipped)",
    "bad-sm-mac-N": "the chip's Nth secure-messaging reply (counted from 1) has a wrong MAC",
    "tear-N": "the card leaves the field after N APDUs",
}
#: Older names kept working.
ALIASES: Final[Mapping[str, str]] = {
    "foreign-signer": "untrusted-csca",
    "bad-signature": "forged-signature",
}


class FaultError(SimulatorError):
    """An unknown fault name or a fault that does not apply to this card."""


def describe(fault: str) -> str:
    """The one-line description of ``fault`` (a name from :data:`FAULTS`, a family member)."""
    fault = ALIASES.get(fault, fault)
    if fault in FAULTS:
        return FAULTS[fault]
    for pattern, family in (
        (r"tampered-dg(\d+)", "tampered-dgN"),
        (r"bad-sm-mac-(\d+)", "bad-sm-mac-N"),
        (r"tear-(\d+)", "tear-N"),
    ):
        m = re.fullmatch(pattern, fault)
        if m:
            return FAULT_FAMILIES[family].replace("N", m.group(1), 1)
    raise FaultError(_unknown(fault))


def _unknown(fault: str) -> str:
    return f"unknown fault {fault!r}; known: {', '.join(FAULTS)}, {', '.join(FAULT_FAMILIES)}"


# ---- content faults ---------------------------------------------------------------------------


def tamper_dg(files: CardFiles, dg: int) -> CardFiles:
    """Flip one bit in the last byte of DG ``dg`` (the SOD still holds the old hash)."""
    if dg not in files.dgs:
        raise FaultError(f"the card has no DG{dg}")
    data = bytearray(files.dgs[dg])
    data[-1] ^= 0x01
    dgs = dict(files.dgs)
    dgs[dg] = bytes(data)
    return replace(files, dgs=dgs)


def resign_sod(
    files: CardFiles, signer: Signer, *, signing_time: dt.datetime | None = None
) -> CardFiles:
    """EF.SOD over the same LDSSecurityObject, signed by ``signer`` (DSC carried in the SOD).

    The digest algorithm is kept; so is the signing time unless ``signing_time`` is given.
    """
    parsed = sod_mod.parse(files.sod)
    new = sod_mod.encode(
        parsed.lds_security_object,
        signer_cert_der=signer.cert_der,
        signer_key=signer.key,
        digest_algorithm=parsed.signer_info.digest_algorithm,
        signing_time=signing_time or parsed.signer_info.signing_time,
    )
    return replace(files, sod=new)


def untrusted_csca(files: CardFiles, *, home: Path | None = None) -> CardFiles:
    """Re-sign the SOD with the DS of a CSCA that the kiosk does not trust."""
    return resign_sod(files, load_or_create_fault_pki(home).untrusted_ds)


def foreign_signer(files: CardFiles, *, home: Path | None = None) -> CardFiles:
    """Older name of :func:`untrusted_csca`."""
    return untrusted_csca(files, home=home)


def impostor_csca(files: CardFiles, *, home: Path | None = None) -> CardFiles:
    """Re-sign the SOD with a DS whose issuer claims the trusted CSCA's name and key id."""
    return resign_sod(files, load_or_create_fault_pki(home).impostor_ds)


def expired_dsc(
    files: CardFiles, *, signed_late: bool = False, home: Path | None = None
) -> CardFiles:
    """Re-sign the SOD with the trusted CSCA's expired DS.

    The signing time is the card's own while the DS was valid (else a day
    before the DS expired): an honest old card. With ``signed_late`` it is a
    day after the DS expired: a signature the DS could no longer make.
    """
    ds = load_or_create_fault_pki(home).expired_ds
    end = ds.cert.not_valid_after_utc
    if signed_late:
        when = end + dt.timedelta(days=1)
    else:
        original = sod_mod.parse(files.sod).signer_info.signing_time
        if original is not None and original.tzinfo is None:
            original = original.replace(tzinfo=dt.UTC)
        start = ds.cert.not_valid_before_utc
        ok = original is not None and start <= original < end
        when = original if ok and original is not None else end - dt.timedelta(days=1)
    return resign_sod(files, ds, signing_time=when)


def revoked_dsc(files: CardFiles, *, home: Path | None = None) -> CardFiles:
    """Re-sign the SOD with the DS that the trusted CSCA's CRL revokes (CRL written too)."""
    return resign_sod(files, load_or_create_fault_pki(home).revoked_ds)


def forge_signature(files: CardFiles) -> CardFiles:
    """Change one byte inside the SOD's signature value (found by searching the parsed bytes)."""
    signature = sod_mod.parse(files.sod).signer_info.signature
    at = files.sod.rfind(signature)
    if at < 0:
        raise FaultError("signature bytes not found in EF.SOD")
    data = bytearray(files.sod)
    data[at + len(signature) // 2] ^= 0x01
    return replace(files, sod=bytes(data))


def bad_signature(files: CardFiles) -> CardFiles:
    """Older name of :func:`forge_signature`."""
    return forge_signature(files)


def _other_ec_key(
    files: CardFiles, key: ec.EllipticCurvePrivateKey, label: str
) -> ec.EllipticCurvePrivateKey:
    """A key on ``key``'s curve, fixed per card and ``label``, that is not ``key``."""
    from simulators.card.personalize import derive_ec_key

    seed = hashlib.sha256(b"cccd-sim/fault/" + files.dgs.get(1, files.sod)).digest()
    try:
        other = derive_ec_key(seed, label, key.curve.name)
    except KeyError:  # a curve personalisation does not derive keys on
        other = ec.generate_private_key(key.curve)
    if other.private_numbers().private_value == key.private_numbers().private_value:
        raise FaultError("derived the chip's own key")  # 2^-256: never, but never silently
    return other


def clone(files: CardFiles, *, home: Path | None = None) -> CardFiles:
    """Give the chip an Active Authentication key other than DG15's (same type and size)."""
    key = files.aa_private_key
    other: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key is None:
        raise FaultError("the card has no Active Authentication key")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        other = _other_ec_key(files, key, "clone-active-authentication")
    else:
        other = load_or_create_fault_pki(home).clone_rsa_key
        if other.key_size != key.key_size:
            raise FaultError(f"no {key.key_size}-bit RSA clone key in the fault PKI")
    return replace(files, aa_private_key=other)


def ca_mismatch(files: CardFiles) -> CardFiles:
    """Give the chip a Chip Authentication key other than DG14's (same curve)."""
    key = files.ca_private_key
    if key is None:
        raise FaultError("the card has no Chip Authentication key")
    return replace(files, ca_private_key=_other_ec_key(files, key, "mismatched-ca"))


def apply_fault(files: CardFiles, fault: str, *, home: Path | None = None) -> CardFiles:
    """Apply a content fault from :data:`FAULTS` to ``files`` and return the changed copy.

    Behaviour faults (``bad-sm-mac``, ``tear-N``) need a chip: use :func:`make_faulty_chip`.
    """
    fault = ALIASES.get(fault, fault)
    m = re.fullmatch(r"tampered-dg(\d+)", fault)
    if m:
        return tamper_dg(files, int(m.group(1)))
    if fault == "forged-signature":
        return forge_signature(files)
    if fault == "untrusted-csca":
        return untrusted_csca(files, home=home)
    if fault == "impostor-csca":
        return impostor_csca(files, home=home)
    if fault in ("expired-dsc", "expired-dsc-signed-late"):
        return expired_dsc(files, signed_late=fault.endswith("late"), home=home)
    if fault == "revoked-dsc":
        return revoked_dsc(files, home=home)
    if fault == "clone":
        return clone(files, home=home)
    if fault == "ca-mismatch":
        return ca_mismatch(files)
    if fault == "bad-sm-mac" or re.fullmatch(r"(bad-sm-mac|tear)-\d+", fault):
        raise FaultError(f"{fault!r} is a chip behaviour: use make_faulty_chip")
    raise FaultError(_unknown(fault))


# ---- behaviour faults -------------------------------------------------------------------------


class BadMacChip(Chip):
    """A chip whose ``bad_reply``-th secure-messaging reply carries a wrong MAC.

    A subclass rather than a chip option so the honest chip stays untouched:
    replies are counted after the chip has answered, when the session was up
    before the command and the reply ends in a MAC object (DO'8E', 8 bytes);
    the counted one gets one bit of its MAC flipped. Everything else — SSC,
    session, data — is as the honest chip has it, exactly like a corrupted
    frame or a chip with a broken MAC unit.
    """

    def __init__(
        self,
        files: CardFiles,
        options: ChipOptions | None = None,
        *,
        bad_reply: int = DEFAULT_BAD_MAC_REPLY,
        **kwargs: Any,
    ) -> None:
        if bad_reply < 1:
            raise FaultError("bad_reply counts from 1")
        super().__init__(files, options, **kwargs)
        self.bad_reply = bad_reply
        self.sm_replies = 0

    def process(self, apdu: bytes) -> bytes:
        """Answer like the honest chip, spoiling the MAC of the chosen protected reply."""
        protected = self.sm is not None
        reply = super().process(apdu)
        # data ... 8E 08 <MAC (8)> SW1 SW2
        if protected and len(reply) >= 12 and reply[-12:-10] == b"\x8e\x08":
            self.sm_replies += 1
            if self.sm_replies == self.bad_reply:
                spoiled = bytearray(reply)
                spoiled[-3] ^= 0x01
                return bytes(spoiled)
        return reply


def make_faulty_chip(name: str, fault: str, **options: Any) -> Chip:
    """The sample card ``name`` with ``fault`` (see :data:`FAULTS`, :data:`FAULT_FAMILIES`).

    ``options`` go to :func:`simulators.card.personalize.make_chip` (``home``,
    ``rng`` and chip options); ``home`` also picks where the fault PKI lives.
    """
    from simulators.card.personalize import make_chip

    chip = make_chip(name, **options)
    fault = ALIASES.get(fault, fault)
    m = re.fullmatch(r"tear-(\d+)", fault)
    if m:
        chip.remove_after(int(m.group(1)))
        return chip
    m = re.fullmatch(r"bad-sm-mac(?:-(\d+))?", fault)
    if m:
        n = int(m.group(1)) if m.group(1) else DEFAULT_BAD_MAC_REPLY
        return BadMacChip(chip.files, chip.options, bad_reply=n, rng=chip.rng)
    home: Path | None = options.get("home")
    rng: Rng = chip.rng
    return Chip(apply_fault(chip.files, fault, home=home), chip.options, rng=rng)
