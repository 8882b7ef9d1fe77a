"""``[logging]``: JSON lines, per-component levels, the environment's level, and exceptions
logged by class name only (their text may quote data)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from kiosk.app.logs import LEVEL_ENV, configure_logging
from kiosk.config import ConfigValueError, LoggingConfig, parse_config


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(LEVEL_ENV, raising=False)
    root = logging.getLogger()
    level = root.level
    yield
    configure_logging()
    root.setLevel(level)


def test_json_lines_with_levels_per_component(restore_logging: None) -> None:
    config = parse_config(
        '[logging]\nformat = "json"\nlevel = "warning"\n'
        '[logging.levels]\n"kiosk.eligibility" = "DEBUG"\n'
    ).logging
    out = io.StringIO()
    configure_logging(config, stream=out)
    logging.getLogger("kiosk.eligibility.bhxh").debug("token renewed in %d ms", 12)
    logging.getLogger("kiosk.checkin").info("not shown: below WARNING")
    try:
        raise ValueError("001088034517 Trần Đức Minh")
    except ValueError:
        logging.getLogger("kiosk.checkin").exception("look-up failed")
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(d["logger"], d["level"], d["message"]) for d in docs] == [
        ("kiosk.eligibility.bhxh", "DEBUG", "token renewed in 12 ms"),
        ("kiosk.checkin", "ERROR", "look-up failed"),
    ]
    assert docs[1]["exc"] == "ValueError"
    assert "001088034517" not in out.getvalue() and "Trần" not in out.getvalue()


def test_the_environment_overrides_the_level_and_reconfiguring_resets(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    config = LoggingConfig(levels={"kiosk.eligibility": "DEBUG"})
    monkeypatch.setenv(LEVEL_ENV, "INFO")
    assert configure_logging(config, stream=out) == logging.INFO
    logging.getLogger("kiosk.app").info("shown at INFO")
    assert out.getvalue() == "cccd-kiosk INFO kiosk.app: shown at INFO\n"
    monkeypatch.delenv(LEVEL_ENV)
    configure_logging(LoggingConfig(), stream=out)
    assert logging.getLogger("kiosk.eligibility").level == logging.NOTSET  # reset


def test_bad_logging_values_name_the_key() -> None:
    for text, key in [
        ('[logging]\nformat = "xml"', "logging.format"),
        ('[logging]\nlevel = "LOUD"', "logging.level"),
        ('[logging.levels]\n"kiosk" = "LOUD"', "logging.levels.kiosk"),
        ("[logging]\nmax_bytes = 10", "logging.max_bytes"),
    ]:
        with pytest.raises(ConfigValueError) as err:
            parse_config(text)
        assert err.value.key == key
