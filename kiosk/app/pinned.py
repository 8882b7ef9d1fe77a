"""The trust a deployment manages itself: CSCA certificates, master lists and CRLs pinned
by their SHA-256 fingerprint into ``<data folder>/trust/`` (``cccd-kiosk trust
add/list/remove``).

Why pinning: the CCCD's CSCA ("CSCA Vietnam") is downloaded from a web site; a clinic must
not trust whatever a network or a mistyped address handed it. ``add`` therefore takes the
fingerprint obtained by another channel and refuses a file whose fingerprint differs —
the SHA-256 of the file as given, or, for a file holding one certificate, of that
certificate's DER (what certificate viewers show). Accepted files are copied into the
trust folder under their fingerprint with an ``index.json`` saying what each is and where
it came from; :func:`pinned_paths` hands them to :func:`kiosk.app.kiosk.load_trust_store`,
so every front-end (``read``, ``verify``, ``checkin``, the kiosk screens) trusts them
through the application layer. Nothing here is personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.app.errors import UsageError
from kiosk.emrtd.certs import PassiveAuthError
from kiosk.emrtd.trust import CRL_SUFFIXES, MAX_FILE_SIZE, ML_SUFFIXES, TrustStore

#: The trust folder's name inside the data folder, and its index.
TRUST_FOLDER = "trust"
INDEX = "index.json"
_SUFFIX = {"certificate": ".cer", "master_list": ".ml", "crl": ".crl"}
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PinnedEntry:
    """One pinned file: its fingerprint (SHA-256, hex), what it is, where it came from."""

    fingerprint: str
    file: str
    kind: str
    source: str
    added: str


def trust_folder(data_dir: Path) -> Path:
    """``<data folder>/trust``."""
    return Path(data_dir) / TRUST_FOLDER


def normalize_fingerprint(text: str, *, prefix: bool = False) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits (colons and spaces ignored).

    With ``prefix`` a shorter leading part (at least 8 digits) is accepted, for ``remove``.
    """
    value = re.sub(r"[\s:]", "", text).lower()
    if prefix and 8 <= len(value) <= 64 and re.fullmatch(r"[0-9a-f]+", value):
        return value
    if not _HEX64.fullmatch(value):
        raise UsageError("--sha256: expected the 64 hex digits of a SHA-256 fingerprint")
    return value


def entries(data_dir: Path) -> list[PinnedEntry]:
    """The pinned files, in the order they were added (empty when nothing is pinned)."""
    index = trust_folder(data_dir) / INDEX
    if not index.is_file():
        return []
    try:
        raw = json.loads(index.read_text(encoding="utf-8"))
        return [PinnedEntry(**item) for item in raw["entries"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{index}: not a trust index written by `cccd-kiosk trust`") from exc


def pinned_paths(data_dir: Path) -> list[str]:
    """The pinned files' paths, for the trust store (empty when nothing is pinned)."""
    folder = trust_folder(data_dir)
    return [str(folder / e.file) for e in entries(data_dir)]


def _write_index(data_dir: Path, items: list[PinnedEntry]) -> None:
    folder = trust_folder(data_dir)
    tmp = folder / (INDEX + ".tmp")
    tmp.write_text(
        json.dumps({"entries": [asdict(e) for e in items]}, indent=2) + "\n", encoding="utf-8"
    )
    os.replace(tmp, folder / INDEX)


def _kind(path: Path, data: bytes) -> str:
    """The kind :meth:`TrustStore.add_file` will read ``path`` as (same rule)."""
    suffix = path.suffix.lower()
    if suffix in ML_SUFFIXES:
        return "master_list"
    if suffix in CRL_SUFFIXES or (data.startswith(b"-----") and b"X509 CRL" in data[:200]):
        return "crl"
    return "certificate"


def add(data_dir: Path, path: Path, sha256: str) -> PinnedEntry:
    """Pin ``path`` when its fingerprint is ``sha256`` (see the module docstring).

    Raises :class:`UsageError` for a missing, oversized or unusable file, or a fingerprint
    that differs (the file is then not copied).
    """
    wanted = normalize_fingerprint(sha256)
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_FILE_SIZE:
            raise UsageError(f"{path}: larger than {MAX_FILE_SIZE} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from exc
    kind = _kind(path, data)
    probe = TrustStore()
    try:
        probe.add_file(path)
    except PassiveAuthError as exc:
        raise UsageError(f"{path}: not a usable {kind.replace('_', ' ')} ({exc})") from exc
    candidates = {hashlib.sha256(data).hexdigest()}
    certs = probe.certificates()
    if kind == "certificate" and len(certs) == 1:
        candidates.add(certs[0].fingerprint.hex())
    if wanted not in candidates:
        raise UsageError(
            f"{path}: its SHA-256 fingerprint is {sorted(candidates)[0]}, not the {wanted} "
            "given with --sha256; refusing to trust it"
        )
    folder = trust_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    items = [e for e in entries(data_dir) if e.fingerprint != wanted]
    name = wanted + _SUFFIX[kind]
    (folder / name).write_bytes(data)
    entry = PinnedEntry(
        fingerprint=wanted,
        file=name,
        kind=kind,
        source=str(path.resolve()),
        added=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
    _write_index(data_dir, [*items, entry])
    return entry


def remove(data_dir: Path, fingerprint: str) -> PinnedEntry:
    """Unpin the entry whose fingerprint is (or starts with) ``fingerprint``; it is returned.

    Raises :class:`UsageError` when none or several match.
    """
    wanted = normalize_fingerprint(fingerprint, prefix=True)
    items = entries(data_dir)
    found = [e for e in items if e.fingerprint.startswith(wanted)]
    if len(found) != 1:
        what = "no pinned file" if not found else f"{len(found)} pinned files"
        raise UsageError(
            f"{fingerprint}: {what} with that fingerprint (see `cccd-kiosk trust list`)"
        )
    entry = found[0]
    _write_index(data_dir, [e for e in items if e is not entry])
    (trust_folder(data_dir) / entry.file).unlink(missing_ok=True)
    return entry


def _day(value: dt.datetime | None) -> str | None:
    return None if value is None else value.date().isoformat()


def describe(data_dir: Path) -> list[dict[str, Any]]:
    """``trust list``: each pinned file with what it holds.

    Certificates: subject, key id (subject key identifier, hex), validity and certificate
    fingerprint; master lists: the same for every CSCA in them; CRLs: issuer and
    ``next_update``. Each with the file's fingerprint, kind, source and when it was added.
    """
    out: list[dict[str, Any]] = []
    for entry in entries(data_dir):
        item: dict[str, Any] = asdict(entry)
        store = TrustStore()
        try:
            store.add_file(trust_folder(data_dir) / entry.file)
        except PassiveAuthError as exc:
            item["error"] = str(exc)
            out.append(item)
            continue
        item["certificates"] = [
            {
                "subject": c.subject,
                "key_id": c.subject_key_identifier.hex() if c.subject_key_identifier else None,
                "valid_from": _day(c.not_before),
                "valid_to": _day(c.not_after),
                "fingerprint": c.fingerprint.hex(),
            }
            for c in store.certificates()
        ]
        item["crls"] = [
            {"issuer": crl.issuer, "next_update": _day(crl.next_update)} for crl in store.crls()
        ]
        out.append(item)
    return out


def describe_text(items: list[dict[str, Any]]) -> str:
    """:func:`describe` as text, one block per pinned file."""
    if not items:
        return "Chưa ghim tệp tin cậy nào / Nothing pinned (cccd-kiosk trust add FILE --sha256 …)"
    lines: list[str] = []
    for item in items:
        lines.append(f"{item['kind']}  {item['fingerprint']}")
        lines.append(f"    source: {item['source']}  (added {item['added']})")
        if "error" in item:
            lines.append(f"    unusable: {item['error']}")
            continue
        certs = item["certificates"]
        for c in certs[:20]:
            lines.append(
                f"    {c['subject']}  key id {c['key_id'] or '—'}  "
                f"valid {c['valid_from']} to {c['valid_to']}  sha256 {c['fingerprint']}"
            )
        if len(certs) > 20:
            lines.append(f"    … and {len(certs) - 20} more certificates")
        for crl in item["crls"]:
            lines.append(f"    CRL of {crl['issuer']}, next update {crl['next_update'] or '—'}")
    return "\n".join(lines)
