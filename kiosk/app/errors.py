"""The application layer's own errors (the layers below keep theirs).

:class:`UsageError` is input or configuration the operator must fix, named the way the
operator gave it (``--trust /x``, ``[trust] paths in kiosk.toml``); :class:`NoCard` is a
reader with nothing on it. Both get words from :mod:`kiosk.app.messages` like every other
exception, so no front-end formats them itself.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of the application layer's errors."""


class UsageError(AppError):
    """Arguments or configuration values that parse but cannot be used (exit 2).

    The text names where the value came from and what is wrong; it never holds personal data.
    """


class NoCard(AppError):
    """The reader is there but holds no card (exit 1)."""


class NoHolderData(AppError):
    """The chip was read, but neither DG13 nor DG1 gave usable holder data (exit 1).

    ``read`` must not print a card of empty fields as if it were a person. The text names
    the files and what became of them (could not be parsed, not on the card): file names
    only, never their contents.
    """
