"""Personalisation: turn a :class:`CardProfile` into the files and secrets of a chip.

What a card gets (like a current CCCD, see CCCD.md):

* EF.CardAccess: TerminalAuthenticationInfo v1, ChipAuthenticationInfo
  id-CA-ECDH-AES-CBC-CMAC-128 v1, PACEInfo id-PACE-ECDH-GM-AES-CBC-CMAC-128 v2
  with parameter id 13 (brainpoolP256r1). None on a BAC-only card.
* EF.COM listing DG1, DG2, DG3, DG13, DG14, DG15 (DG3 present but protected).
* DG1 (TD1 MRZ), DG2 (a generated JPEG portrait in an ISO/IEC 19794-5
  record), DG3 (an empty fingerprint group: read-protected anyway), DG13
  (Vietnamese personal data), DG14 (CA key and info; the PACE and TA infos
  again so they are covered by the SOD; ActiveAuthenticationInfo for an EC
  AA key), DG15 (the AA public key).
* EF.SOD: SHA-256 of every data group, signed by the test Document Signer.
* Secrets: CAN (last 6 digits of the ID), MRZ information, CA and AA keys.

EC keys are derived from a per-card seed, so they cost nothing to remake; an
RSA AA key is random. Personalised cards are cached as JSON (mode 0600, it
holds private keys) in ``<sim home>/cards/``, keyed by the profile, the DS
certificate and the source of the encoders, so a stale cache is never used.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiosk.emrtd.lds import card_access as card_access_mod
from kiosk.emrtd.lds import com as com_mod
from kiosk.emrtd.lds import dg1 as dg1_mod
from kiosk.emrtd.lds import dg2 as dg2_mod
from kiosk.emrtd.lds import dg13 as dg13_mod
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.lds import dg15 as dg15_mod
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.lds.files import DATA_GROUPS
from kiosk.emrtd.security_infos import (
    ID_AA,
    ID_CA_ECDH,
    ID_PACE_ECDH_GM,
    ID_PK_ECDH,
    ID_TA,
    SUFFIX_AES128,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
)
from simulators.card.chip import CardFiles, Chip, Rng
from simulators.card.face import make_portrait
from simulators.card.pki import TestPKI, load_or_create_pki, sim_home, write_atomic
from simulators.card.profile import (
    NO_EXPIRY_TEXT,
    CardProfile,
    ChipOptions,
    ProfileError,
    SimulatorError,
    load_profile,
)

__all__ = ["CardFiles", "PersonalizationError", "make_chip", "personalize"]

#: Bump when the layout of the cached JSON changes.
CACHE_FORMAT = 1
#: PACE: ECDH generic mapping, AES-128 (id-PACE-ECDH-GM-AES-CBC-CMAC-128), version 2.
PACE_PROTOCOL = f"{ID_PACE_ECDH_GM}.{SUFFIX_AES128}"
#: Standardised domain parameter 13: brainpoolP256r1.
PACE_PARAMETER_ID = 13
#: Chip Authentication: id-CA-ECDH-AES-CBC-CMAC-128, version 1.
CA_PROTOCOL = f"{ID_CA_ECDH}.{SUFFIX_AES128}"
#: ecdsa-plain-SHA256 (BSI TR-03111), the AA signature algorithm for EC keys.
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"
#: LDS tags EF.COM lists: DG1, DG2, DG3, DG13, DG14, DG15.
COM_DATA_GROUPS = (1, 2, 3, 13, 14, 15)
#: DG3 stand-in: a biometric group template with zero fingerprint templates.
DG3_EMPTY = bytes.fromhex("6306" + "7F6103" + "020100")

_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "brainpoolP256r1": (
        ec.BrainpoolP256R1(),
        0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
    ),
    "secp256r1": (
        ec.SECP256R1(),
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
}
#: Modules whose source decides the bytes of a card (part of the cache key).
_ENCODER_MODULES = (
    card_access_mod,
    com_mod,
    dg1_mod,
    dg2_mod,
    dg13_mod,
    dg14_mod,
    dg15_mod,
    sod_mod,
)

_memo: dict[tuple[str, str], CardFiles] = {}
_memo_lock = threading.Lock()


class PersonalizationError(SimulatorError):
    """A card could not be personalised (bad profile value, unreadable cache)."""


# ---- keys -------------------------------------------------------------------------------


def card_seed(profile: CardProfile) -> bytes:
    """The per-card seed every deterministic choice (keys, portrait) derives from."""
    return hashlib.sha256(f"cccd-sim/{profile.name}/{profile.id_number}".encode()).digest()


def derive_ec_key(seed: bytes, label: str, curve_name: str) -> ec.EllipticCurvePrivateKey:
    """An EC private key on ``curve_name`` derived from ``seed`` and ``label`` (1 ≤ d < n)."""
    curve, order = _CURVES[curve_name]
    digest = hashlib.sha512(seed + b"/" + label.encode()).digest()
    d = int.from_bytes(digest, "big") % (order - 1) + 1
    return ec.derive_private_key(d, curve)


def _spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---- the files --------------------------------------------------------------------------


def _vn_date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def card_access_infos(profile: CardProfile) -> tuple[SecurityInfo, ...]:
    """EF.CardAccess SecurityInfos as seen on CCCD chips (empty for a BAC-only chip)."""
    if profile.chip.mode == "bac":
        return ()
    return (
        TerminalAuthenticationInfo(ID_TA, 1),
        ChipAuthenticationInfo(CA_PROTOCOL, 1),
        PACEInfo(PACE_PROTOCOL, 2, PACE_PARAMETER_ID),
    )


def build_dg13(profile: CardProfile) -> dg13_mod.DG13:
    """The DG13 record of the profile's person (text exactly as the profile has it, NFC)."""
    p = profile.person
    # Field 16 as real cards write it: 16 hex-looking characters, 0294…0000 (a card serial).
    serial = f"0294{card_seed(profile)[:4].hex().upper()}0000"
    return dg13_mod.DG13(
        id_number=p.id_number,
        full_name=p.full_name,
        date_of_birth=_vn_date(p.date_of_birth),
        sex=p.sex,
        nationality=p.nationality,
        ethnicity=p.ethnicity,
        religion=p.religion,
        place_of_origin=p.place_of_origin,
        place_of_residence=p.place_of_residence,
        identifying_marks=p.identifying_marks,
        date_of_issue=_vn_date(p.date_of_issue),
        date_of_expiry=_vn_date(p.date_of_expiry) if p.date_of_expiry else NO_EXPIRY_TEXT,
        father_name=p.father_name,
        mother_name=p.mother_name,
        spouse_name=p.spouse_name,
        old_id_number=p.old_id_number,
        field16_raw=serial.encode("ascii"),
        # As on real cards: field 15 present without a value when there was never a CMND.
        empty_fields=() if p.old_id_number else (dg13_mod.F_OLD_ID_NUMBER,),
    )


def _build(profile: CardProfile, pki: TestPKI, aa_key: rsa.RSAPrivateKey | None) -> CardFiles:
    """Personalise from scratch (no cache)."""
    p = profile.person
    seed = card_seed(profile)
    td1 = p.td1()
    dg1 = dg1_mod.encode(dg1_mod.DG1(td1))
    portrait = make_portrait(seed, profile.chip.photo_bytes)
    face = dg2_mod.FaceImage(
        image=portrait.jpeg,
        image_format="jpeg",
        width=portrait.width,
        height=portrait.height,
        gender=1 if p.sex == "Nam" else 2,  # ISO/IEC 19794-5: 1 male, 2 female
        face_image_type=1,  # full frontal
        source_type=2,  # static photo from a digital still camera
    )
    dg2 = dg2_mod.encode(dg2_mod.DG2(faces=(face,), encoding="iso19794-5"))
    dg13 = dg13_mod.encode(build_dg13(profile))

    ca_key = derive_ec_key(seed, "chip-authentication", profile.keys.ca_curve)
    aa: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if profile.keys.aa == "ec-p256":
        aa = derive_ec_key(seed, "active-authentication", "secp256r1")
    else:
        aa = aa_key if aa_key is not None else rsa.generate_private_key(65537, 2048)
    infos14: list[SecurityInfo] = [
        ChipAuthenticationInfo(CA_PROTOCOL, 1),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _spki(ca_key)),
    ]
    if isinstance(aa, ec.EllipticCurvePrivateKey):
        infos14.append(ActiveAuthenticationInfo(ID_AA, 1, ECDSA_PLAIN_SHA256))
    access_infos = card_access_infos(profile)
    infos14 += [i for i in access_infos if isinstance(i, PACEInfo | TerminalAuthenticationInfo)]
    dg14 = dg14_mod.encode(dg14_mod.DG14(tuple(infos14)))
    dg15 = dg15_mod.encode(dg15_mod.DG15(_spki(aa)))

    dgs = {1: dg1, 2: dg2, 3: DG3_EMPTY, 13: dg13, 14: dg14, 15: dg15}
    com = com_mod.encode(
        com_mod.EFCom("0107", "040000", tuple(DATA_GROUPS[n].tag or 0 for n in COM_DATA_GROUPS))
    )
    lso = sod_mod.LDSSecurityObject(
        version=0,
        hash_algorithm="sha256",
        dg_hashes=tuple((n, hashlib.sha256(dgs[n]).digest()) for n in sorted(dgs)),
        lds_version=None,
    )
    signing_time = dt.datetime.combine(p.date_of_issue, dt.time(2, 0), tzinfo=dt.UTC)
    sod = sod_mod.encode(
        lso,
        signer_cert_der=pki.ds_cert_der,
        signer_key=pki.ds_key,
        digest_algorithm="sha256",
        signing_time=signing_time,
    )
    card_access = (
        card_access_mod.encode(card_access_mod.CardAccess(access_infos)) if access_infos else None
    )
    return CardFiles(
        card_access=card_access,
        com=com,
        sod=sod,
        dgs=dgs,
        can=p.can,
        mrz_info=td1.mrz_information,
        pace_info=PACEInfo(PACE_PROTOCOL, 2, PACE_PARAMETER_ID) if access_infos else None,
        protected=frozenset({3}),
        ca_private_key=ca_key,
        ca_protocol=CA_PROTOCOL,
        aa_private_key=aa,
    )


# ---- cache ------------------------------------------------------------------------------


def _cache_key(profile: CardProfile, pki: TestPKI) -> str:
    h = hashlib.sha256()
    h.update(f"format={CACHE_FORMAT}\n{profile!r}\n".encode())
    h.update(pki.ds_cert_der)
    for module in (*_ENCODER_MODULES, None):
        path = Path(__file__).with_name("face.py") if module is None else module.__file__
        if path:
            h.update(Path(path).read_bytes())
    h.update(Path(__file__).read_bytes())  # this module builds the records (build_dg13…)
    return h.hexdigest()[:24]


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _to_json(files: CardFiles) -> dict[str, Any]:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    assert files.ca_private_key is not None and files.aa_private_key is not None
    info = files.pace_info
    return {
        "format": CACHE_FORMAT,
        "card_access": b64(files.card_access) if files.card_access is not None else None,
        "com": b64(files.com),
        "sod": b64(files.sod),
        "dgs": {str(n): b64(v) for n, v in files.dgs.items()},
        "can": files.can,
        "mrz_info": files.mrz_info,
        "pace_info": [info.protocol, info.version, info.parameter_id] if info else None,
        "protected": sorted(files.protected),
        "ca_key": _pem(files.ca_private_key),
        "ca_protocol": files.ca_protocol,
        "aa_key": _pem(files.aa_private_key),
    }


def _from_json(doc: dict[str, Any]) -> CardFiles:
    def unb64(text: str) -> bytes:
        return base64.b64decode(text.encode("ascii"), validate=True)

    ca = serialization.load_pem_private_key(doc["ca_key"].encode("ascii"), None)
    aa = serialization.load_pem_private_key(doc["aa_key"].encode("ascii"), None)
    if not isinstance(ca, ec.EllipticCurvePrivateKey) or not isinstance(
        aa, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise PersonalizationError("cached card holds keys of an unexpected type")
    pace = doc["pace_info"]
    return CardFiles(
        card_access=unb64(doc["card_access"]) if doc["card_access"] is not None else None,
        com=unb64(doc["com"]),
        sod=unb64(doc["sod"]),
        dgs={int(n): unb64(v) for n, v in doc["dgs"].items()},
        can=str(doc["can"]),
        mrz_info=str(doc["mrz_info"]),
        pace_info=PACEInfo(str(pace[0]), int(pace[1]), pace[2]) if pace else None,
        protected=frozenset(int(n) for n in doc["protected"]),
        ca_private_key=ca,
        ca_protocol=doc["ca_protocol"],
        aa_private_key=aa,
    )


def personalize(
    profile: CardProfile, pki: TestPKI, *, cache: bool = True, home: Path | None = None
) -> CardFiles:
    """Files and secrets of the chip for ``profile``, signed by ``pki``'s Document Signer.

    With ``cache`` the result is kept in memory and in ``<sim home>/cards``
    (``home`` defaults to the directory holding ``pki``), so the second call
    for the same card is a file read, not an RSA key generation.
    """
    if not cache:
        return _build(profile, pki, None)
    key = _cache_key(profile, pki)
    root = sim_home(home) if home is not None else pki.directory.parent
    memo_key = (str(root), key)
    with _memo_lock:
        hit = _memo.get(memo_key)
    if hit is not None:
        return hit
    path = root / "cards" / f"{profile.name}-{key}.json"
    files: CardFiles | None = None
    if path.is_file():
        try:
            files = _from_json(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError, PersonalizationError):
            files = None  # unreadable or from an older layout: personalise again
    if files is None:
        files = _build(profile, pki, None)
        data = json.dumps(_to_json(files), indent=1).encode("utf-8")
        root.joinpath("cards").mkdir(parents=True, exist_ok=True)
        os.chmod(root / "cards", 0o700)
        write_atomic(path, data, 0o600)
    with _memo_lock:
        _memo[memo_key] = files
    return files


_CHIP_OPTIONS = {f.name for f in fields(ChipOptions)}


def make_chip(
    name: str, *, rng: Rng | None = None, home: Path | None = None, **options: Any
) -> Chip:
    """A freshly powered chip for the sample card ``name``.

    ``options`` override the profile's chip options (``mode``,
    ``extended_length``, ``max_read``, ``max_read_sw``, ``plain_errors``,
    ``bac_refused_sw``, ``photo_bytes``); ``rng`` pins the chip's randomness;
    ``home`` picks the simulator data directory (default: ``$CCCD_SIM_HOME``
    or the user data dir).
    """
    unknown = set(options) - _CHIP_OPTIONS
    if unknown:
        raise ProfileError(f"unknown chip option(s): {', '.join(sorted(unknown))}")
    profile = load_profile(name)
    chip_options = replace(profile.chip, **options)
    if chip_options.photo_bytes != profile.chip.photo_bytes:
        profile = replace(profile, chip=replace(profile.chip, photo_bytes=chip_options.photo_bytes))
    if chip_options.mode != profile.chip.mode and "bac" in (chip_options.mode, profile.chip.mode):
        # EF.CardAccess and DG14 depend on whether PACE is offered: personalise for the new mode.
        profile = replace(profile, chip=replace(profile.chip, mode=chip_options.mode))
    files = personalize(profile, load_or_create_pki(home), home=home)
    return Chip(files, chip_options, **({"rng": rng} if rng is not None else {}))
