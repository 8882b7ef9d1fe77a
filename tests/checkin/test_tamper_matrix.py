"""The tamper matrix: every bad card read through the reader, and never accepted as genuine.

Each row reads a sample card with one fault from :data:`simulators.card.faults.FAULTS`
through :class:`kiosk.emrtd.session.ReaderSession` with the test trust store (the
test CSCA and its CRL: :attr:`TestPKI.trust_paths`): PACE, secure messaging, the
real file reader, then the session's own Chip, Active and Passive Authentication
steps (``ReadResult.chip_auth``, ``active_auth``, ``passive_auth``). Each row
asserts the verdicts, and that the reasons say *why* in words a receptionist
can read. The honest card is the control row: ``verified``, CA and AA ``passed``.

``expired-dsc`` is the one fault that is not a forgery: the policy in
:mod:`kiosk.emrtd.pa` accepts a document signed while its DSC was valid, so it
must verify — and its late-signed twin must not.

The same reads are then dumped with the CLI's own ``write_dump`` (what
``cccd-kiosk read --out`` writes, AA evidence included) and re-verified by
``cccd-kiosk verify DIR --trust ... --json`` in a subprocess, which must agree
with the live read. Chip Authentication is interactive and cannot be re-checked
from a dump: offline, a ``ca-mismatch`` card's files are simply genuine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.simulated import SimulatedTransport
from kiosk.cccd import access
from kiosk.emrtd import trust as trust_mod
from kiosk.emrtd.errors import SecureMessagingError
from kiosk.emrtd.session import ReaderSession, ReadResult
from kiosk.transport import CardRemoved
from simulators.card import faults
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip
from simulators.card.pki import (
    TestPKI,
    demo_trust_store,
    load_or_create_fault_pki,
    load_or_create_pki,
)
from simulators.card.profile import load_profile

#: Cards the matrix runs on: RSA-2048 AA (extended length so the signature fits) and EC AA.
CARDS: dict[str, dict[str, Any]] = {"default": {"extended_length": True}, "anh-tuyet": {}}
CONTROL = "none"


@dataclass(frozen=True)
class Expect:
    """What the kiosk must conclude about a card with one fault.

    ``verdict`` None: the read itself must stop with ``error``. ``reason``:
    words that must appear (case-insensitive) in the PA reasons, or in the
    AA/CA reason when the row is about AA/CA. ``dgs``: DG statuses required;
    ``aa`` / ``ca``: the acceptable AA / CA outcomes. ``genuine``: what the
    kiosk may show as a genuine card (only the control and ``expired-dsc``).
    """

    verdict: str | None
    signature: str = "valid"
    chain: str = "trusted"
    reason: str = ""
    dgs: dict[str, str] = field(default_factory=dict)
    aa: tuple[str, ...] = ("passed",)
    ca: tuple[str, ...] = ("passed",)
    error: type[Exception] | None = None
    genuine: bool = False


def _tampered(n: int) -> Expect:
    return Expect("failed", reason=f"DG{n} does not match", dgs={f"DG{n}": "mismatch"})


MATRIX: dict[str, Expect] = {
    CONTROL: Expect("verified", genuine=True),
    "tampered-dg1": _tampered(1),
    "tampered-dg2": _tampered(2),
    "tampered-dg13": _tampered(13),
    "tampered-dg14": _tampered(14),
    "tampered-dg15": Expect(
        "failed",
        reason="DG15 does not match",
        dgs={"DG15": "mismatch"},
        aa=("failed", "not_supported"),  # the altered key may not even parse
    ),
    "forged-signature": Expect("failed", signature="invalid", reason="signature does not verify"),
    "untrusted-csca": Expect("issuer_unknown", chain="unknown_issuer", reason="not trusted"),
    "impostor-csca": Expect("failed", chain="invalid", reason="not signed by the trusted CSCA"),
    # Not a forgery (pa.py's policy): an honest old card whose DSC has since expired.
    "expired-dsc": Expect("verified", genuine=True),
    "expired-dsc-signed-late": Expect(
        "failed", chain="invalid", reason="was not valid when the document was signed"
    ),
    "revoked-dsc": Expect("failed", chain="invalid", reason="revoked"),
    "clone": Expect("verified", aa=("failed",), reason="cloned"),
    # A failed CA ends the session: the reader then does not run AA.
    "ca-mismatch": Expect(
        "verified", ca=("failed",), aa=("not_supported", "passed"), reason="DG14"
    ),
    "bad-sm-mac": Expect(None, error=SecureMessagingError),
    "bad-sm-mac-1": Expect(None, error=SecureMessagingError),
    "tear-8": Expect(None, error=CardRemoved),
}


def test_the_matrix_covers_every_fault() -> None:
    assert set(faults.FAULTS) <= set(MATRIX)
    for family in ("bad-sm-mac-", "tear-"):
        assert any(name.startswith(family) for name in MATRIX)


@dataclass
class Outcome:
    """One read of a (faulty) card: the result, or the error that stopped the read."""

    result: ReadResult | None
    error: Exception | None

    @property
    def pa(self) -> Any:
        assert self.result is not None and self.result.passive_auth is not None
        return self.result.passive_auth

    @property
    def aa(self) -> Any:
        assert self.result is not None and self.result.active_auth is not None
        return self.result.active_auth

    @property
    def ca(self) -> Any:
        assert self.result is not None and self.result.chip_auth is not None
        return self.result.chip_auth


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    load_or_create_fault_pki()  # writes the CRL beside the CSCA
    return load_or_create_pki()


@pytest.fixture(scope="module")
def trust(pki: TestPKI) -> trust_mod.TrustStore:
    store = trust_mod.TrustStore.from_paths(pki.trust_paths)
    assert store.stats.crls == 1 and len(store) == 1
    return store


def _chip(card: str, fault: str) -> Chip:
    if fault == CONTROL:
        return make_chip(card, **CARDS[card])
    return faults.make_faulty_chip(card, fault, **CARDS[card])


_outcomes: dict[tuple[str, str, int], Outcome] = {}


def _outcome(card: str, fault: str, trust: trust_mod.TrustStore) -> Outcome:
    """Read ``card`` with ``fault`` once per trust store (memoised across the rows)."""
    key = (card, fault, id(trust))
    if key not in _outcomes:
        session = ReaderSession(SimulatedTransport(_chip(card, fault)), trust=trust)
        try:
            result = session.read([access.key_from_id(load_profile(card).id_number)])
        except Exception as exc:  # the row decides whether this error is the right one
            _outcomes[key] = Outcome(None, exc)
        else:
            _outcomes[key] = Outcome(result, None)
    return _outcomes[key]


def _genuine(out: Outcome) -> bool:
    """What a kiosk may show as a genuine card: PA verified, neither AA nor CA failed."""
    if out.result is None or out.pa.verdict != "verified":
        return False
    return out.aa.result != "failed" and out.ca.result != "failed"


ROWS = [(card, fault) for card in CARDS for fault in MATRIX]


@pytest.mark.parametrize(("card", "fault"), ROWS)
def test_matrix_row(card: str, fault: str, trust: Any) -> None:
    want = MATRIX[fault]
    out = _outcome(card, fault, trust)
    assert _genuine(out) == want.genuine, f"{card}/{fault}: {out.pa and out.pa.reasons}"
    if want.verdict is None:
        assert want.error is not None and isinstance(out.error, want.error), repr(out.error)
        return
    assert out.error is None, repr(out.error)
    result = out.pa
    assert result.verdict == want.verdict, result.reasons
    assert result.signature == want.signature, result.reasons
    assert result.chain == want.chain, result.reasons
    for dg, status in want.dgs.items():
        assert result.data_groups[dg] == status
    if want.verdict == "verified":
        assert result.reasons == () or all("expired" not in r for r in result.reasons)
        assert set(result.data_groups.values()) <= {"ok", "protected"}
    else:
        assert result.reasons, "a card that is not verified must say why"
        assert any(want.reason.lower() in r.lower() for r in result.reasons), result.reasons
    assert out.aa.result in want.aa, out.aa.reason
    if want.aa == ("failed",):
        assert out.aa.reason and want.reason.lower() in out.aa.reason.lower(), out.aa.reason
    assert out.ca.result in want.ca, out.ca.reason
    if want.ca == ("failed",):
        assert out.ca.reason and want.reason.lower() in out.ca.reason.lower(), out.ca.reason


def test_no_bad_card_is_verified_and_each_says_why(trust: Any) -> None:
    for card, fault in ROWS:
        want = MATRIX[fault]
        out = _outcome(card, fault, trust)
        if want.genuine:
            continue
        assert not _genuine(out), (card, fault)
        if out.result is not None and out.pa.verdict != "verified":
            assert out.pa.reasons


def test_expired_dsc_is_really_expired_and_still_verifies(trust: Any) -> None:
    import datetime as dt

    out = _outcome("default", "expired-dsc", trust)
    ds = load_or_create_fault_pki().expired_ds.cert
    assert ds.not_valid_after_utc < dt.datetime.now(dt.UTC)
    assert out.pa.signer is not None and out.pa.signer.serial == str(ds.serial_number)
    assert out.pa.signing_time is not None and out.pa.signing_time < ds.not_valid_after_utc


def test_revoked_dsc_verifies_without_the_crl(pki: TestPKI) -> None:
    # The CRL is what catches it: without it the same card chains to the trusted CSCA.
    store = trust_mod.TrustStore.from_paths([pki.csca_cert_path])
    assert _outcome("default", "revoked-dsc", store).pa.verdict == "verified"


def test_demo_trust_loads_the_crl(pki: TestPKI) -> None:
    """Demo mode must catch the revoked DSC too: it should load TestPKI.trust_paths."""
    from kiosk.app.kiosk import load_trust_store

    stores = {"demo_trust_store()": demo_trust_store(), "--trust demo": None}
    stores["--trust demo"] = load_trust_store(["demo"], demo=False, origin="--trust")
    missing = [name for name, store in stores.items() if store is None or store.stats.crls == 0]
    assert not missing, f"{', '.join(missing)}: the demo trust store lacks the test CSCA's CRL"
    for store in stores.values():
        assert store is not None
        assert _outcome("default", "revoked-dsc", store).pa.verdict == "failed"


# ---- through the command line -----------------------------------------------------------------


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("cccd-kiosk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kiosk.cli"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


@pytest.fixture(scope="module")
def verify_cli() -> Iterator[None]:
    probe = _cli("verify", "--help", timeout=60)
    assert probe.returncode == 0, f"`cccd-kiosk verify --help` failed: {probe.stderr}"
    yield


EXIT = {"verified": 0, "issuer_unknown": 3, "failed": 4}
#: What ``verify`` can re-check offline: PA and AA (from the recorded challenge and response).
#: A CA mismatch is invisible in a dump, so that dump is as genuine as its files.
OFFLINE_EXIT = {"clone": 4, "ca-mismatch": 0}


@pytest.mark.parametrize("fault", [f for f, e in MATRIX.items() if e.verdict is not None])
def test_verify_cli_agrees_on_dumps(
    fault: str, trust: trust_mod.TrustStore, pki: TestPKI, tmp_path: Path, verify_cli: None
) -> None:
    from kiosk.app.dump import write_dump

    out = _outcome("default", fault, trust)
    assert out.result is not None
    dump = tmp_path / "dump"
    write_dump(dump, out.result)
    args = ["verify", str(dump), "--json"]
    for path in pki.trust_paths:
        args += ["--trust", str(path)]
    proc = _cli(*args)
    want = MATRIX[fault].verdict
    assert want is not None
    assert proc.returncode == OFFLINE_EXIT.get(fault, EXIT[want]), proc.stderr
    doc = json.loads(proc.stdout)
    pa_doc = doc["passive_auth"]
    assert pa_doc["verdict"] == out.pa.verdict == want
    assert pa_doc["signature"] == out.pa.signature and pa_doc["chain"] == out.pa.chain
    assert pa_doc["reasons"] == list(out.pa.reasons)
    for dg, status in MATRIX[fault].dgs.items():
        assert pa_doc["data_groups"][dg] == status
    if out.aa.response:  # evidence recorded: offline AA must agree with the live one
        assert doc["active_auth"]["result"] == out.aa.result


def test_read_out_then_verify_the_good_card(tmp_path: Path, pki: TestPKI, verify_cli: None) -> None:
    dump = tmp_path / "dump"
    read = _cli("read", "--reader", "sim:default", "--can", "034517", "--out", str(dump))
    assert read.returncode == 0, read.stderr
    proc = _cli("verify", str(dump), "--trust", str(pki.csca_cert_path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["passive_auth"]["verdict"] == "verified"
    untrusted = load_or_create_fault_pki().directory / "untrusted-csca.pem"
    proc = _cli("verify", str(dump), "--trust", str(untrusted), "--json")
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["passive_auth"]["verdict"] == "issuer_unknown"
