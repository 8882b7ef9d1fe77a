"""Logging for every front-end: stderr, at ``$CCCD_KIOSK_LOG_LEVEL`` (default ERROR — the
front-ends already say what went wrong in their own words). Log records never carry personal
data. nfcpy sets its own logger to INFO at import; it is held to the same level, so a command
still prints one line when the NFC reader is missing.
"""

from __future__ import annotations

import logging
import os

#: The environment variable with the level name (DEBUG, INFO, WARNING, ERROR).
LEVEL_ENV = "CCCD_KIOSK_LOG_LEVEL"
#: Third-party loggers that would otherwise speak above the chosen level.
_QUIETED = ("nfc", "usb1", "escpos")


def configure_logging() -> int:
    """Set up the root logger once; returns the level in force."""
    name = os.environ.get(LEVEL_ENV, "ERROR").upper()
    level = getattr(logging, name, logging.ERROR)
    if not isinstance(level, int):
        level = logging.ERROR
    logging.basicConfig(level=level, format="cccd-kiosk %(levelname)s %(name)s: %(message)s")
    for logger in _QUIETED:
        logging.getLogger(logger).setLevel(max(level, logging.WARNING))
    return level
