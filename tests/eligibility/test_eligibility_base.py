"""The eligibility contract: JSON round trip, validation, ask_staff, redacted Person repr."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kiosk.eligibility import EligibilityResult, Person, ask_staff
from kiosk.eligibility.errors import (
    ConfigurationError,
    EligibilityError,
    GatewayAuthError,
    GatewayProtocolError,
    GatewayUnavailable,
)


def _result(**kw: object) -> EligibilityResult:
    base: dict[str, object] = dict(
        status="eligible",
        code="000",
        message="Thẻ còn giá trị sử dụng",
        advice_vi="Thẻ hợp lệ",
        advice_en="Card valid",
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        registered_clinic="01001",
        card_number="GD4010120001234",
        as_of=datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC),
    )
    base.update(kw)
    return EligibilityResult(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "r",
    [
        _result(),
        _result(source="cache", stale=True),
        _result(
            status="unknown",
            code=None,
            message=None,
            valid_from=None,
            valid_to=None,
            registered_clinic=None,
            card_number=None,
        ),
        _result(as_of=datetime(2026, 11, 24, 15, 0, tzinfo=timezone(timedelta(hours=7)))),
    ],
)
def test_json_round_trip_is_exact(r: EligibilityResult) -> None:
    d = r.to_json()
    assert EligibilityResult.from_json(d) == r
    assert d["valid_from"] in (None, "2026-01-01")
    import json

    assert EligibilityResult.from_json(json.loads(json.dumps(d))) == r


def test_naive_as_of_and_bad_status_are_refused() -> None:
    with pytest.raises(ValueError):
        _result(as_of=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        _result(status="maybe")
    with pytest.raises(ValueError):
        _result(source="guess")


def test_ask_staff() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    r = ask_staff("Hỏi nhân viên", "Ask staff", now=now)
    assert (r.status, r.code, r.as_of, r.source, r.stale) == ("unknown", None, now, "live", False)
    assert r.advice_en == "Ask staff"
    assert ask_staff("a", "b").as_of.tzinfo is not None


def test_person_repr_has_no_personal_data() -> None:
    p = Person("001088034517", "Trần Đức Minh", date(1988, 3, 4), sex="Nam")
    assert "001088034517" not in repr(p) and "Minh" not in repr(p)
    assert "1988" not in str(p)


def test_error_hierarchy() -> None:
    for cls in (GatewayUnavailable, GatewayAuthError, GatewayProtocolError, ConfigurationError):
        assert issubclass(cls, EligibilityError)
