"""Reception mode offscreen: the [ui] config and flags, today's check-ins with search and
export, manual entry, the MRZ key entry, the operator PIN and the settings screen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from kiosk.config import Config, UiConfig
from ui.app import build_parser, resolve_options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_flags_override_the_ui_section() -> None:
    config = Config(ui=UiConfig(mode="reception", language="en", idle_timeout_s=90))
    options = resolve_options(build_parser().parse_args([]), config)
    assert (options.mode, options.lang, options.idle_timeout_s, options.fullscreen) == (
        "reception", "en", 90.0, True,
    )  # fmt: skip
    args = build_parser().parse_args(
        ["--mode", "self", "--lang", "vi", "--idle-timeout", "5", "--windowed"]
    )
    options = resolve_options(args, config)
    assert (options.mode, options.lang, options.idle_timeout_s, options.fullscreen) == (
        "self", "vi", 5.0, False,
    )  # fmt: skip
    windowed = Config(ui=UiConfig(fullscreen=False))
    assert not resolve_options(build_parser().parse_args([]), windowed).fullscreen
    with pytest.raises(ValueError, match="idle-timeout"):
        resolve_options(build_parser().parse_args(["--idle-timeout", "0"]), config)
