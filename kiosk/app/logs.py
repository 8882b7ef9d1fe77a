"""Logging for every front-end: where log lines go, in which shape, and how much.

By default, stderr (the journal under systemd) at ERROR — the front-ends already say what went
wrong in their own words. A configuration's ``[logging]`` (:class:`kiosk.config.LoggingConfig`)
chooses ``text`` or ``json`` lines (one JSON object per line: ``ts``, ``level``, ``logger``,
``message``, and ``exc`` — the exception's class name only, never its text or traceback, which
may quote data), a ``file`` written with size-based rotation (created 0600), a ``level`` and
levels per component (``[logging.levels] "kiosk.eligibility" = "DEBUG"``).
``$CCCD_KIOSK_LOG_LEVEL`` overrides ``level``. Log records never carry personal data (the
privacy test reads every output). nfcpy sets its own logger to INFO at import; it is held to
the same level, so a command still prints one line when the NFC reader is missing.

The JSON formatter is these few lines rather than a dependency: five fixed keys, and the one
rule that matters here (no exception text) is ours to keep.
"""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from kiosk.config import ConfigValueError, LoggingConfig

#: The environment variable with the level name (DEBUG, INFO, WARNING, ERROR).
LEVEL_ENV = "CCCD_KIOSK_LOG_LEVEL"
#: Third-party loggers that would otherwise speak above the chosen level.
_QUIETED = ("nfc", "usb1", "escpos")
TEXT_FORMAT = "cccd-kiosk %(levelname)s %(name)s: %(message)s"
#: Marks the handlers this module installed (replaced when logging is configured again).
_OURS = "_cccd_kiosk_handler"
#: Loggers given a level of their own by ``[logging.levels]`` (reset when configured again).
_COMPONENTS: set[str] = set()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, and ``exc`` (the exception class name) when one is attached."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            doc["exc"] = record.exc_info[0].__name__
        return json.dumps(doc, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """The text line, with an attached exception as its class name only (no traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        line = self.formatMessage(record)
        if record.exc_info and record.exc_info[0] is not None:
            line += f" [{record.exc_info[0].__name__}]"
        return line


def _level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    return level if isinstance(level, int) else logging.ERROR


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Size-rotated log files, each created owner-only (0600) — the first one and every fresh
    one after a rollover (the standard handler would follow the umask)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return io.TextIOWrapper(
            io.FileIO(fd, "a"), encoding=self.encoding or "utf-8", errors=self.errors
        )


def _file_handler(config: LoggingConfig) -> logging.Handler:
    path = Path(config.file or "").expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return PrivateRotatingFileHandler(
        path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8"
    )


def configure_logging(config: LoggingConfig | None = None, *, stream: TextIO | None = None) -> int:
    """Set up logging from ``config`` (default: stderr, text, ERROR); returns the root level.

    Called again (once the configuration file is read), it replaces what it installed the
    first time. A stderr handler is added only when nothing else handles the root logger (as
    ``logging.basicConfig`` does; test runners install their own), or when ``stream`` is given.
    """
    config = config or LoggingConfig()
    level = _level(os.environ.get(LEVEL_ENV) or config.level)
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(h)
        h.close()
    formatter = JsonFormatter() if config.format == "json" else _TextFormatter(TEXT_FORMAT)
    handler: logging.Handler | None = None
    if config.file:
        try:
            handler = _file_handler(config)
        except OSError as exc:
            raise ConfigValueError(
                f"cannot write the log file {config.file}: {exc.strerror or exc}",
                key="logging.file",
            ) from exc
    elif stream is not None or not root.handlers:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    if handler is not None:
        handler.setFormatter(formatter)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(level)
    for logger in _QUIETED:
        logging.getLogger(logger).setLevel(max(level, logging.WARNING))
    for name in _COMPONENTS - set(config.levels):
        logging.getLogger(name).setLevel(logging.NOTSET)
    _COMPONENTS.clear()
    for name, value in config.levels.items():
        logging.getLogger(name).setLevel(_level(value))
        _COMPONENTS.add(name)
    return level


__all__ = ["LEVEL_ENV", "JsonFormatter", "configure_logging"]
