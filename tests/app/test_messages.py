"""kiosk.app.messages: every project exception gets specific, NFC, data-free advice in vi and en."""

from __future__ import annotations

import importlib
import pkgutil
import re
import unicodedata
from pathlib import Path

import pytest

from kiosk.app import messages
from kiosk.app.messages import FIELD_LABELS, GENERIC, MESSAGES, UserMessage, is_generic, message_for

ROOT = Path(__file__).resolve().parents[2]
#: The layers whose exceptions reach a screen (ui is left out: it imports Qt).
PACKAGES = ("kiosk", "drivers", "offline_cache", "simulators")


def _import_all() -> None:
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{name}."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type[BaseException]) -> set[type[BaseException]]:
    out: set[type[BaseException]] = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _subclasses(sub)
    return out


def project_exceptions() -> list[type[BaseException]]:
    """Every public exception class defined in the project's layers."""
    _import_all()
    found = [
        cls
        for cls in _subclasses(BaseException)
        if cls.__module__.split(".")[0] in PACKAGES and not cls.__name__.startswith("_")
    ]
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


EXCEPTIONS = project_exceptions()


def _blank(cls: type[BaseException]) -> BaseException:
    """An instance without running ``__init__`` (constructors differ; the message must not care)."""
    return cls.__new__(cls)


def test_discovery_finds_the_layers() -> None:
    names = {c.__name__ for c in EXCEPTIONS}
    assert {"CardRemoved", "AccessDenied", "StorageError", "GatewayUnavailable"} <= names
    assert {"NoCardFound", "BhytQRError", "ConfigError", "SimulatorError"} <= names
    assert len(EXCEPTIONS) >= 40


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_project_exception_has_a_specific_message(cls: type[BaseException]) -> None:
    msg = message_for(_blank(cls))
    assert not is_generic(msg), f"{cls.__qualname__} falls back to the generic message"


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_project_exception_class_is_listed_by_name(cls: type[BaseException]) -> None:
    """Inheriting a parent's message is allowed, but each class should get its own words."""
    assert f"{cls.__module__}.{cls.__qualname__}" in MESSAGES


def test_every_table_entry_names_a_real_class() -> None:
    real = {f"{c.__module__}.{c.__qualname__}" for c in EXCEPTIONS}
    real.add("builtins.OSError")  # files: dumps, exports, the data folder
    assert set(MESSAGES) <= real, set(MESSAGES) - real


def _all_messages() -> list[UserMessage]:
    out = [GENERIC, *MESSAGES.values()]
    for exc_cls in EXCEPTIONS:
        for field in FIELD_LABELS:
            exc = _blank(exc_cls)
            exc.field = field  # type: ignore[attr-defined]
            out.append(message_for(exc))
    return out


def test_strings_are_nfc_and_non_empty() -> None:
    for msg in _all_messages():
        for text in (msg.title_vi, msg.title_en, msg.action_vi, msg.action_en):
            assert text.strip(), msg
            assert unicodedata.normalize("NFC", text) == text, text
            assert not text.endswith("."), text  # UserMessage.text adds the full stop
        assert msg.severity in ("info", "warning", "error")
    for vi, en in FIELD_LABELS.values():
        assert vi and en and unicodedata.normalize("NFC", vi) == vi


def test_vietnamese_is_vietnamese() -> None:
    """Each Vietnamese title differs from the English one (no untranslated copy)."""
    for msg in MESSAGES.values():
        assert msg.title_vi != msg.title_en
        assert msg.action_vi != msg.action_en


def test_examples_from_the_brief() -> None:
    from drivers.registry import NoCardFound
    from kiosk.emrtd.errors import AccessDenied
    from kiosk.transport import CardRemoved

    removed = message_for(CardRemoved("card gone"))
    assert (removed.title_vi, removed.title_en) == ("Thẻ đã bị rút ra", "The card was removed")
    assert removed.action_vi == "Đặt lại thẻ lên đầu đọc"
    assert removed.action_en == "Place the card on the reader again"
    denied = message_for(AccessDenied("PACE failed"))
    assert denied.action_vi == "Kiểm tra 6 số cuối của số CCCD"
    assert denied.action_en == "Check the last 6 digits of the ID number"
    assert "plug" in message_for(NoCardFound([("pcsc", "none")])).action_en.lower()


def test_subclass_inherits_the_nearest_ancestor() -> None:
    from kiosk.transport import CardRemoved

    class Special(CardRemoved):
        pass

    assert message_for(Special()).key == "card_removed"


def test_unknown_exceptions_get_the_generic_message() -> None:
    assert message_for(RuntimeError("x")) is GENERIC
    assert message_for(KeyError("x")) is GENERIC
    assert is_generic(message_for(ValueError()))


def test_chip_problems_offer_qr_or_manual_entry() -> None:
    from kiosk.emrtd.errors import FileTooLarge, LDSParseError, SecureMessagingError

    for cls in (FileTooLarge, LDSParseError, SecureMessagingError):
        msg = message_for(cls("x"))
        assert "QR" in msg.action_en and "manual" in msg.action_en
        assert "QR" in msg.action_vi and "nhập tay" in msg.action_vi


def test_storage_and_config_say_administrator() -> None:
    from kiosk.config import ConfigValueError
    from offline_cache.crypto import SealError

    assert "administrator" in message_for(ConfigValueError("x", key="a.b")).action_en
    storage = message_for(SealError("x"))
    assert "administrator" in storage.action_en and "not have been saved" in storage.action_en
    assert "quản trị viên" in storage.action_vi


def test_gateway_unavailable_continues_from_cache() -> None:
    from kiosk.eligibility.errors import GatewayAuthError, GatewayUnavailable

    msg = message_for(GatewayUnavailable("timeout"))
    assert msg.severity == "warning" and "saved data" in msg.action_en
    assert message_for(GatewayAuthError("401")).key == "gateway_auth"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("kiosk.emrtd.errors", "AccessKeyError"),
        ("kiosk.emrtd.errors", "MRZError"),
        ("kiosk.cccd.bhyt_qr", "BhytQRError"),
    ],
)
def test_field_errors_name_the_field(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    msg = message_for(cls("date of birth: not a date", field="date_of_birth"))
    assert "ngày sinh" in msg.title_vi and "date of birth" in msg.title_en
    other = message_for(cls("x", field="sex"))
    assert other.title_en != msg.title_en
    # An unknown field (or none) is not echoed: the base message is used.
    plain = message_for(cls("x", field="zzz_weird"))
    assert "zzz" not in plain.title_en + plain.action_en
    assert message_for(cls("x")).title_en == plain.title_en


def test_every_field_raised_in_the_code_has_a_label() -> None:
    """Field names written as literals (``field="..."``) anywhere in the layers are labelled."""
    pattern = re.compile(r'field="([a-z_0-9]+)"')
    used: set[str] = set()
    for pkg in ("kiosk", "drivers", "offline_cache"):
        for path in (ROOT / pkg).rglob("*.py"):
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "no field literals found: the pattern is stale"
    assert used <= set(FIELD_LABELS), used - set(FIELD_LABELS)


def test_the_exception_text_never_reaches_the_message() -> None:
    secret = "Trần Đức Minh 001088034517"
    for cls in EXCEPTIONS:
        exc = _blank(cls)
        exc.args = (secret,)
        msg = message_for(exc)
        shown = " ".join((msg.title_vi, msg.title_en, msg.action_vi, msg.action_en))
        assert "001088034517" not in shown and "Minh" not in shown


def test_text_joins_title_and_action() -> None:
    from kiosk.transport import CardRemoved

    msg = message_for(CardRemoved())
    assert msg.text("vi") == "Thẻ đã bị rút ra. Đặt lại thẻ lên đầu đọc."
    assert msg.text("en") == "The card was removed. Place the card on the reader again."
    assert messages.field_name("can", "en") == "last 6 digits of the ID number"
    assert messages.field_name(None) == "thông tin đã nhập"


#: Words only an operator can act on: no patient at a self-check kiosk should read them.
STAFF_WORDS = ("quản trị viên", "administrator", "pcscd", "udev", "cccd-kiosk", "storage.key")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_patients_never_read_the_operators_fix(lang: str) -> None:
    """Every message's patient action (what self-check shows) is free of operator words and
    still says what to do; the full action keeps the operator's fix for staff."""
    for cls, msg in MESSAGES.items():
        if cls.startswith("simulators."):  # the simulator's own errors are for testers
            continue
        patient = msg.patient_action(lang)
        assert patient, cls
        assert not any(w in patient.lower() for w in STAFF_WORDS), (cls, patient)
        if not any(w in msg.action(lang).lower() for w in STAFF_WORDS):
            assert patient == msg.action(lang), cls  # patient words are left alone
    pcscd = MESSAGES["drivers.pcsc.PcscUnavailable"]
    assert "pcscd" in pcscd.action(lang)
    desk = "quầy tiếp đón" if lang == "vi" else "reception desk"
    assert desk in pcscd.patient_action(lang)
    retry = MESSAGES["kiosk.emrtd.errors.EmrtdError"].patient_action(lang)
    assert retry.startswith("Đặt lại thẻ" if lang == "vi" else "Place the card again")
