"""Real documents' EF.SOD files (``tests/data/real_sods``, from gmrtd's passive-authentication
tests) verify against the real German and Dutch master lists.

Each must give signature ``valid`` and chain ``trusted`` to its own country's CSCA — the
public real-world counterpart of the constructions in ``test_sod_real_world.py``:
New Zealand's SOD as the chip sends it (BER, indefinite lengths in the CMS), Malaysia's
signer named with the issuer's RDNs in another order, a 2011 British SOD without
signingTime whose DSC expired in 2022. The check time is fixed, so the verdicts do not
move with the calendar.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.pa import passive_authentication
from kiosk.emrtd.trust import TrustStore
from tests import DATA

REAL = DATA / "real_sods"
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)

#: file → (country of the CSCA, how the signer was found, reference of the DSC validity)
EXPECTED = {
    "AT": ("AT", "issuer_and_serial", "signing_time"),
    "AU": ("AU", "issuer_and_serial", "signing_time"),
    "DE": ("DE", "issuer_and_serial", "unknown"),
    "FI": ("FI", "issuer_and_serial", "unknown"),
    "FR": ("FR", "issuer_and_serial", "signing_time"),
    "GB-2011": ("gb", "issuer_and_serial", "unknown"),
    "ID": ("ID", "issuer_and_serial", "signing_time"),
    "MY": ("MY", "issuer_and_serial_any_order", "signing_time"),
    "NZ": ("NZ", "issuer_and_serial", "signing_time"),
    "NZ-der": ("NZ", "issuer_and_serial", "signing_time"),
    "PH": ("PH", "issuer_and_serial", "signing_time"),
    "RU": ("RU", "issuer_and_serial", "signing_time"),
    "SG": ("SG", "issuer_and_serial", "unknown"),
    "UK": ("GB", "issuer_and_serial", "unknown"),
    "US": ("US", "issuer_and_serial", "signing_time"),
}


@pytest.fixture(scope="module")
def store() -> TrustStore:
    """DE + NL master lists, plus Indonesia's 2020 CSCA (not in the PKD: Indonesia runs two)."""
    return TrustStore.from_paths(
        [*sorted((DATA / "masterlists").glob("*.ml")), REAL / "csca" / "IDN_2020-10_CSCA.cer"]
    )


def test_every_file_is_covered() -> None:
    assert sorted(p.stem for p in REAL.glob("*.sod")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_sod_verifies(name: str, store: TrustStore) -> None:
    country, match, reference = EXPECTED[name]
    sod = sod_mod.parse((REAL / f"{name}.sod").read_bytes())
    result = passive_authentication(sod, {}, store, now=NOW)
    assert (result.verdict, result.signature, result.chain) == ("verified", "valid", "trusted")
    assert result.reasons == ()
    assert result.csca is not None and result.csca.endswith(f"C={country}")
    assert (result.signer_match, result.reference) == (match, reference)


def test_nz_ber_as_sent_and_der_converted_are_the_same_document() -> None:
    ber = (REAL / "NZ.sod").read_bytes()
    der = (REAL / "NZ-der.sod").read_bytes()
    assert ber[4:6] == b"\x30\x80" and der[4:6] == b"\x30\x82"
    a, b = sod_mod.parse(ber), sod_mod.parse(der)
    assert a.econtent == b.econtent
    assert a.signer_info.signed_attrs_der == b.signer_info.signed_attrs_der


def test_expired_dsc_without_signing_time_is_a_note_not_a_failure(store: TrustStore) -> None:
    sod = sod_mod.parse((REAL / "GB-2011.sod").read_bytes())
    result = passive_authentication(sod, {}, store, now=NOW)
    assert result.signing_time is None
    assert result.notes == (
        "The SOD does not say when it was signed (no signing time, no date of issue); the "
        "document signer's certificate expired on 2022-12-01, which alone does not make the "
        "document invalid",
    )


def test_without_the_issuers_csca_it_is_issuer_unknown_not_failed() -> None:
    """A real document whose CSCA is not installed: the honest state of a real CCCD today."""
    store = TrustStore.from_paths(sorted((DATA / "masterlists").glob("*.ml")))
    sod = sod_mod.parse((REAL / "ID.sod").read_bytes())
    result = passive_authentication(sod, {}, store, now=NOW)
    assert (result.verdict, result.signature, result.chain) == (
        "issuer_unknown",
        "valid",
        "unknown_issuer",
    )
