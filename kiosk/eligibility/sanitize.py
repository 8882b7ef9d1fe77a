"""Strings from a gateway made safe to store, print and show.

A gateway's free text (``ghiChu``, a FHIR ``disposition``) and codes (``maKetQua``,
``maDKBD``, card numbers) end up in the journal, on a terminal, in JSON output and on the Qt
screens. A hostile or broken server could send ANSI escapes that rewrite a terminal, bidi
overrides that make text read differently than it is stored, control characters, or a
million characters that freeze a label. Every such string goes through here first:

* :func:`clean_text` — ANSI/terminal escape sequences, control characters (C0, C1, DEL),
  format characters (bidi embeddings, overrides and isolates, zero-width characters),
  surrogates, private-use and unassigned code points are removed; runs of whitespace become
  one space; the text is NFC (Vietnamese diacritics kept as one code point each) and capped
  at ``max_chars`` (an ellipsis marks the cut).
* :func:`clean_code` — a code is letters and digits only and at most ``max_chars`` long;
  anything else is not a code (None), so a wrong value is never shown as if it were one.

Input is cut to a few times the cap *before* the work, so a 1 M-character message costs
the same as a short one.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest gateway message kept (characters).
MAX_MESSAGE_CHARS = 500
#: ``MA_DKBD``, the registered clinic, is 5 characters (XML 130).
MAX_CLINIC_CHARS = 5
#: A BHYT card number is 15 characters; a CCCD number (used as ``maThe``) 12.
MAX_CARD_CHARS = 15
#: ``maKetQua`` is 3 digits; a little room for gateways that add a letter.
MAX_RESULT_CODE_CHARS = 10

# CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-character escapes, and the C1
# forms of CSI/OSC (U+009B, U+009D).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]?"
)
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_CODE = re.compile(r"[A-Za-z0-9]+")


def clean_text(value: str | None, max_chars: int = MAX_MESSAGE_CHARS) -> str | None:
    """``value`` without escapes, control/format characters, NFC, at most ``max_chars``
    characters (see the module docstring); None or nothing left → None."""
    if value is None:
        return None
    text = value[: max_chars * 4 + 64]
    text = _ESCAPES.sub("", text)
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text or None


def clean_code(value: str | None, max_chars: int) -> str | None:
    """``value`` stripped, if it is 1…``max_chars`` ASCII letters and digits; else None."""
    if value is None:
        return None
    code = value[: max_chars + 64].strip()
    if len(code) > max_chars or not _CODE.fullmatch(code):
        return None
    return code
