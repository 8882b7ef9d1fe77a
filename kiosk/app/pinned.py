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

``trust fetch-crl`` (:func:`fetch_crls`) downloads the CRLs named in the pinned CSCA
certificates' CRL distribution points (HTTP/HTTPS, size-capped, time-limited), keeps only
those whose signature verifies with that CSCA's key — the CSCA is pinned, so its
signature pins the CRL — and pins them too; a CRL past its nextUpdate is kept with a
note (a stale CRL still lists what was revoked), never a failure.
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
from kiosk.emrtd.certs import Certificate, PassiveAuthError
from kiosk.emrtd.trust import CRL, CRL_SUFFIXES, MAX_FILE_SIZE, ML_SUFFIXES, TrustStore

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


#: The largest CRL ``fetch-crl`` accepts (a CSCA's CRL is a few KiB).
MAX_CRL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CrlFetch:
    """What ``fetch-crl`` did with one distribution point: ``ok`` (pinned), ``failed``."""

    url: str
    csca: str
    status: str
    detail: str
    next_update: str | None = None
    stale: bool = False


def _crl_urls(cert: Certificate) -> list[str]:
    """The HTTP(S) URLs of ``cert``'s CRL distribution points."""
    try:
        points = cert.asn1.crl_distribution_points
    except (ValueError, TypeError, KeyError):
        return []
    urls: list[str] = []
    for point in points:
        url = point.url
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            urls.append(url)
    return urls


def _download(url: str, timeout: float) -> bytes:
    """GET ``url``, at most :data:`MAX_CRL_BYTES`; OSError / ValueError on any problem."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "cccd-kiosk trust fetch-crl"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        data = bytes(reply.read(MAX_CRL_BYTES + 1))
    if len(data) > MAX_CRL_BYTES:
        raise ValueError(f"larger than {MAX_CRL_BYTES} bytes")
    return data


def _crl_der(data: bytes) -> bytes:
    """The DER of a CRL sent as DER or PEM (ValueError for broken PEM armour)."""
    from asn1crypto import pem

    if pem.detect(data):
        _kind_name, _headers, der = pem.unarmor(data)
        return bytes(der)
    return data


def fetch_crls(
    data_dir: Path, *, timeout: float = 10.0, now: dt.datetime | None = None
) -> list[CrlFetch]:
    """Fetch, check and pin the CRLs of every pinned CSCA certificate (module docstring).

    Master lists' CSCAs are not fetched for (hundreds of countries); pin a CSCA
    certificate to have its CRL kept current. Each distribution point gives one
    :class:`CrlFetch`; a CRL fetched again replaces the one pinned from the same URL.
    """
    now = now or dt.datetime.now(dt.UTC)
    folder = trust_folder(data_dir)
    results: list[CrlFetch] = []
    for entry in entries(data_dir):
        if entry.kind != "certificate":
            continue
        store = TrustStore()
        try:
            store.add_file(folder / entry.file)
        except PassiveAuthError:
            continue
        for csca in store.certificates():
            for url in _crl_urls(csca):
                results.append(_fetch_one(data_dir, csca, url, timeout, now))
    return results


def _fetch_one(
    data_dir: Path, csca: Certificate, url: str, timeout: float, now: dt.datetime
) -> CrlFetch:
    try:
        data = _crl_der(_download(url, timeout))
        crl = CRL.from_der(data)
    except (OSError, ValueError, PassiveAuthError) as exc:
        return CrlFetch(url, csca.subject, "failed", f"not fetched: {exc}")
    if not crl.signed_by(csca):
        return CrlFetch(url, csca.subject, "failed", "refused: not signed by that CSCA's key")
    fingerprint = hashlib.sha256(crl.der).hexdigest()
    name = fingerprint + _SUFFIX["crl"]
    trust_folder(data_dir).mkdir(parents=True, exist_ok=True)
    (trust_folder(data_dir) / name).write_bytes(crl.der)
    items = entries(data_dir)
    for old in [e for e in items if e.kind == "crl" and e.source == url]:
        if old.file != name:
            (trust_folder(data_dir) / old.file).unlink(missing_ok=True)
    items = [e for e in items if not (e.kind == "crl" and e.source == url)]
    items = [e for e in items if e.fingerprint != fingerprint]
    added = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    _write_index(data_dir, [*items, PinnedEntry(fingerprint, name, "crl", url, added)])
    stale = crl.next_update is not None and crl.next_update < now
    detail = f"{len(crl.revoked)} revoked"
    if stale:
        detail += "; stale: past its next update (kept: it still lists what was revoked)"
    return CrlFetch(url, csca.subject, "ok", detail, _day(crl.next_update), stale)


def fetch_text(results: list[CrlFetch]) -> str:
    """:func:`fetch_crls` as text, one line per distribution point."""
    if not results:
        return "Không có CRL để tải / No CRL to fetch: no pinned CSCA names a distribution point"
    return "\n".join(
        f"{'✔' if r.status == 'ok' else '✘'} {r.url} ({r.csca}): {r.detail}"
        + (f", next update {r.next_update}" if r.next_update else "")
        for r in results
    )
