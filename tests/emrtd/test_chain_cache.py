"""The DSC → CSCA chain cache of passive authentication (``kiosk.emrtd.pa._ChainCache``).

Thousands of cards share a document signer, so its chain result is kept per trust store,
keyed by the DSC's fingerprint, the store's version and the issuer's CRL state. What must
hold: a cached verdict is the uncached one (every sample card and every content fault of
the simulator), a change of trust (CRL added, CSCA removed, CSCA added) is seen by the very
next card, the reference time is still checked per card, and hits really happen.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from kiosk.emrtd import pa
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.pa import chain_cache_info, passive_authentication
from kiosk.emrtd.trust import TrustStore
from simulators.card import faults
from simulators.card.personalize import personalize
from simulators.card.pki import demo_trust_paths, load_or_create_pki
from simulators.card.profile import load_profile
from tests.emrtd.test_pa import NOW, SAMPLE_CARDS, at, dg_files, make_crl, make_sod, pki

CONTENT_FAULTS = tuple(
    f
    for f in faults.FAULTS
    if f.startswith("tampered-")
    or f
    in (
        "forged-signature",
        "untrusted-csca",
        "impostor-csca",
        "expired-dsc",
        "expired-dsc-signed-late",
        "revoked-dsc",
    )
)


def _read(card: str, fault: str | None = None) -> tuple[sod_mod.SOD, dict[str, bytes]]:
    files = personalize(load_profile(card), load_or_create_pki())
    if fault is not None:
        files = faults.apply_fault(files, fault)
    return sod_mod.parse(files.sod), {f"DG{n}": raw for n, raw in files.dgs.items() if n != 3}


@pytest.fixture(scope="module")
def demo() -> TrustStore:
    """The demo trust: the test CSCA and its CRL (which revokes the revoked-dsc signer)."""
    return TrustStore.from_paths(demo_trust_paths())


def _same_cached_and_uncached(sod: sod_mod.SOD, files: dict[str, bytes], store: TrustStore) -> str:
    fresh = passive_authentication(sod, files, store, protected=("DG3",), chain_cache=False)
    before = chain_cache_info(store)
    first = passive_authentication(sod, files, store, protected=("DG3",))
    second = passive_authentication(sod, files, store, protected=("DG3",))
    after = chain_cache_info(store)
    assert first.to_json() == fresh.to_json() == second.to_json()
    assert after.hits >= before.hits + 1  # the second card at least came from the cache
    return fresh.verdict


@pytest.mark.parametrize("card", SAMPLE_CARDS)
def test_cached_verdict_equals_uncached_for_sample_cards(card: str, demo: TrustStore) -> None:
    assert _same_cached_and_uncached(*_read(card), demo) == "verified"


@pytest.mark.parametrize("fault", CONTENT_FAULTS)
def test_cached_verdict_equals_uncached_for_fault_cards(fault: str, demo: TrustStore) -> None:
    verdict = _same_cached_and_uncached(*_read("default", fault), demo)
    expected = {"untrusted-csca": "issuer_unknown", "expired-dsc": "verified"}
    assert verdict == expected.get(fault, "failed")


def test_reference_time_is_checked_per_card_not_cached(demo: TrustStore) -> None:
    """Same expired DSC, two cards: signed while valid (verified), signed late (failed).

    A cache holding the whole verdict per DSC would give the second card the first one's.
    """
    store = TrustStore.from_paths(demo_trust_paths())
    ok_sod, ok_files = _read("default", "expired-dsc")
    late_sod, late_files = _read("default", "expired-dsc-signed-late")
    assert ok_sod.certificates == late_sod.certificates  # one DSC, one cache entry
    assert passive_authentication(ok_sod, ok_files, store).verdict == "verified"
    late = passive_authentication(late_sod, late_files, store)
    assert chain_cache_info(store).hits == 1
    assert late.verdict == "failed"
    assert any("was not valid when the document was signed" in r for r in late.reasons)


def test_a_crl_added_revokes_at_the_next_card_and_its_removal_restores() -> None:
    p = pki()
    store = p.store()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    assert passive_authentication(sod, files, store, now=NOW).verdict == "verified"
    assert passive_authentication(sod, files, store, now=NOW).verdict == "verified"
    assert (chain_cache_info(store).hits, chain_cache_info(store).misses) == (1, 1)

    crl = store.add_crl(make_crl(p.csca_name, p.csca_key, [1001]))
    revoked = passive_authentication(sod, files, store, now=NOW)
    assert (revoked.verdict, revoked.chain) == ("failed", "invalid")
    assert "The document signer's certificate has been revoked" in revoked.reasons

    assert store.remove_crl(crl.fingerprint) is crl
    assert passive_authentication(sod, files, store, now=NOW).verdict == "verified"


def test_a_crl_of_another_serial_changes_nothing_but_is_seen() -> None:
    p = pki()
    store = p.store()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    passive_authentication(sod, files, store, now=NOW)
    store.add_crl(make_crl(p.csca_name, p.csca_key, [4242]))
    assert store.crl_state(p.store().certificates()[0].subject_key) != ()
    result = passive_authentication(sod, files, store, now=NOW)
    assert result.verdict == "verified"
    assert chain_cache_info(store).misses == 2  # a new CRL state: checked again, not reused


def test_removing_the_csca_makes_the_next_card_issuer_unknown() -> None:
    p = pki()
    store = p.store()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    assert passive_authentication(sod, files, store, now=NOW).verdict == "verified"
    fingerprint = hashlib.sha256(p.csca_der).digest()
    assert store.remove_certificate(fingerprint) is not None
    assert store.remove_certificate(fingerprint) is None
    gone = passive_authentication(sod, files, store, now=NOW)
    assert (gone.verdict, gone.chain, gone.csca) == ("issuer_unknown", "unknown_issuer", None)


def test_adding_the_right_csca_turns_issuer_unknown_into_verified() -> None:
    p = pki()
    store = TrustStore()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    for _ in range(2):  # the second from the cache: still issuer_unknown
        assert passive_authentication(sod, files, store, now=NOW).verdict == "issuer_unknown"
    assert chain_cache_info(store).hits == 1
    version = store.version
    assert store.add_certificate(p.csca_der, strict=True)
    assert store.version > version
    result = passive_authentication(sod, files, store, now=NOW)
    assert (result.verdict, result.chain) == ("verified", "trusted")
    assert result.csca_info is not None and result.csca_info.common_name == "CSCA main"


def test_an_impostor_csca_added_under_the_trusted_name_is_rejected_afresh() -> None:
    """A second certificate of the same name changes the version: the chain is checked again."""
    p, other = pki(), pki("other")
    store = p.store()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    passive_authentication(sod, files, store, now=NOW)
    store.add_certificate(other.csca_der)
    assert passive_authentication(sod, files, store, now=NOW).verdict == "verified"
    assert chain_cache_info(store).misses == 2


def test_cache_is_per_store_and_hits_skip_the_signature_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = pki()
    trusting, empty = p.store(), TrustStore()
    files = dg_files()
    sods = [make_sod(files, p.dsc_der, p.dsc_key, signing_time=at(2024, 5, d)) for d in (1, 2, 3)]
    for s in sods:
        assert passive_authentication(s, files, trusting, now=NOW).verdict == "verified"
    assert chain_cache_info(trusting) == pa.ChainCacheInfo(hits=2, misses=1, size=1)
    assert passive_authentication(sods[0], files, empty, now=NOW).verdict == "issuer_unknown"
    assert chain_cache_info(empty).misses == 1

    # A hit does not even ask the store whether the CSCA signed the DSC.
    def refuse(*_args: object) -> bool:
        raise AssertionError("chain checked although cached")

    monkeypatch.setattr(trusting, "issued_by", refuse)
    assert passive_authentication(sods[1], files, trusting, now=NOW).verdict == "verified"


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pa, "CHAIN_CACHE_SIZE", 2)
    store = TrustStore()
    files = dg_files()
    for label in ("a", "b", "c"):
        p = pki(label)
        passive_authentication(make_sod(files, p.dsc_der, p.dsc_key), files, store, now=NOW)
    assert chain_cache_info(store) == pa.ChainCacheInfo(hits=0, misses=3, size=2)


def test_date_of_issue_reference_is_per_card_too() -> None:
    """No signingTime: the date of issue decides per card, whatever the cache holds."""
    p = pki()
    store = p.store()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key, signing_time=None)
    good = passive_authentication(sod, files, store, now=NOW, date_of_issue=dt.date(2024, 5, 1))
    bad = passive_authentication(sod, files, store, now=NOW, date_of_issue=dt.date(2019, 5, 1))
    assert (good.verdict, bad.verdict) == ("verified", "failed")
    assert chain_cache_info(store).hits == 1
