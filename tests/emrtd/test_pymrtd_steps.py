"""The bench's yardstick, ``bench/pymrtd_steps.py`` (pymrtd's PA steps, reimplemented), does
the work it is timed for: it verifies what is genuine and refuses what is not, so the
ratio ``make bench`` prints compares two real checks (no timing here)."""

from __future__ import annotations

import pytest

from bench import pymrtd_steps
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.trust import TrustStore
from simulators.card import faults
from simulators.card.personalize import personalize
from simulators.card.pki import demo_trust_store, load_or_create_pki
from simulators.card.profile import load_profile
from tests import DATA
from tests.emrtd.test_pa import dg_files, make_sod, pki

REAL = DATA / "real_sods"


@pytest.fixture(scope="module")
def index() -> pymrtd_steps.CscaIndex:
    store = TrustStore.from_paths(
        [*sorted((DATA / "masterlists").glob("*.ml")), REAL / "csca" / "IDN_2020-10_CSCA.cer"]
    )
    return pymrtd_steps.CscaIndex(c.der for c in store.certificates())


@pytest.mark.parametrize("name", sorted(p.stem for p in REAL.glob("*.sod") if p.stem != "MY"))
def test_real_sods_pass_pymrtds_steps(name: str, index: pymrtd_steps.CscaIndex) -> None:
    assert pymrtd_steps.verify((REAL / f"{name}.sod").read_bytes(), {}, index) == "verified"


def test_reordered_issuer_is_not_found_as_in_pymrtd(index: pymrtd_steps.CscaIndex) -> None:
    with pytest.raises(pymrtd_steps.StepsError, match="no DSC"):
        pymrtd_steps.verify((REAL / "MY.sod").read_bytes(), {}, index)


def test_tampered_dg_forged_signature_and_unknown_csca_are_refused() -> None:
    p = pki()
    files = dg_files()
    encoded = sod_mod.encode(
        make_sod(files, p.dsc_der, p.dsc_key).lds_security_object,
        signer_cert_der=p.dsc_der,
        signer_key=p.dsc_key,
    )
    trusted = pymrtd_steps.CscaIndex([p.csca_der])
    assert pymrtd_steps.verify(encoded, files, trusted) == "verified"
    with pytest.raises(pymrtd_steps.StepsError, match="DG2 hash"):
        pymrtd_steps.verify(encoded, dict(files, DG2=files["DG2"][:-1] + b"\x00"), trusted)
    with pytest.raises(pymrtd_steps.StepsError, match="CSCA not found"):
        pymrtd_steps.verify(encoded, files, pymrtd_steps.CscaIndex([]))
    impostor = pymrtd_steps.CscaIndex([pki("impostor").csca_der])
    with pytest.raises(pymrtd_steps.StepsError):
        pymrtd_steps.verify(encoded, files, impostor)


def test_simulator_fault_cards_are_refused() -> None:
    made = personalize(load_profile("default"), load_or_create_pki())
    index = pymrtd_steps.CscaIndex(c.der for c in demo_trust_store().certificates())
    for fault, needle in (("tampered-dg13", "DG13 hash"), ("forged-signature", "SOD signature")):
        bad = faults.apply_fault(made, fault)
        files = {f"DG{n}": raw for n, raw in bad.dgs.items() if n != 3}
        with pytest.raises(pymrtd_steps.StepsError, match=needle):
            pymrtd_steps.verify(bad.sod, files, index)
