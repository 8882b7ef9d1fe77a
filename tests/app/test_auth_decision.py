"""Reception decides on a card that failed its authenticity checks, and the decision is kept:
in the check-in's sealed record (who, when, what) and in the audit trail (the id only)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivers.simulated import LinkModel, open_simulated
from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.cccd import access
from kiosk.checkin import Authenticity
from simulators.card.profile import load_profile

KEY = [access.key_from_id(load_profile("default").id_number)]


def _kiosk(data: Path) -> Kiosk:
    settings = resolve(None, Overrides(data_dir=data))
    return Kiosk(dataclasses.replace(settings), demo_gateway=False)


def _tap(kiosk: Kiosk, card: str) -> str:
    report = kiosk.checkin_card(KEY, transport=open_simulated(card, link=LinkModel.zero()))
    return report.outcome.checkin_id


@pytest.mark.parametrize(
    ("card", "kind"),
    [
        ("default+tampered-dg13", "tampered"),
        ("default+clone", "clone"),
        ("default+revoked-dsc", "revoked"),
        ("default+forged-signature", "forged"),
        ("default+untrusted-csca", "unknown_issuer"),
        ("default", None),
    ],
)
def test_reception_is_told_why_a_card_failed(tmp_path: Path, card: str, kind: str | None) -> None:
    with _kiosk(tmp_path / "data") as kiosk:
        out = kiosk.checkin_card(KEY, transport=open_simulated(card, link=LinkModel.zero()))
        auth = out.outcome.authenticity
        assert isinstance(auth, Authenticity) and auth.failure() == kind


@pytest.mark.parametrize("accepted", [True, False])
def test_the_decision_is_journaled_and_audited(tmp_path: Path, accepted: bool) -> None:
    with _kiosk(tmp_path / "data") as kiosk:
        kiosk.actor = "reception"
        checkin_id = _tap(kiosk, "default+clone")
        kiosk.decide_authenticity(checkin_id, accepted=accepted)
        record = kiosk.storage.journal.get(checkin_id)
        assert record is not None and record.authenticity is not None
        decision = record.authenticity["staff_decision"]
        assert decision["decision"] == ("accepted" if accepted else "refused")
        assert decision["by"] == "reception" and decision["at"]
        assert record.authenticity["active_auth"]["result"] == "failed"  # the proof is kept
        assert not record.chip_verified  # a decision never makes the card genuine
        rows = [e for e in kiosk.audit_log.entries() if e.target == checkin_id]
        assert [e.action for e in rows] == ["auth.override" if accepted else "auth.refused"]
        assert rows[0].actor == "reception"


def test_only_a_failed_card_gets_a_decision(tmp_path: Path) -> None:
    with _kiosk(tmp_path / "data") as kiosk:
        genuine = _tap(kiosk, "default")
        with pytest.raises(UsageError):
            kiosk.decide_authenticity(genuine, accepted=True)
        with pytest.raises(UsageError):
            kiosk.decide_authenticity("20260101-0001-00000000", accepted=True)
