"""The one ``auto`` policy: which kind of reader ``--reader auto`` means right now.

Opening (:func:`drivers.registry.open_transport`) and watching
(:class:`drivers.watch.CardWatcher`) both ask :func:`choose_auto`, so a kiosk configured with
``auto`` reads from the reader it watches. The order:

1. **PC/SC** when pcscd answers and lists at least one reader (any reader: a card may come
   later). A reader pcscd lists is plugged in and claimed by pcscd; an ACR122U that pcscd
   holds cannot be opened by nfcpy anyway.
2. else the **NFC frontend on USB** (:data:`AUTO_NFC_PATH`), through nfcpy.

The choice is made once per open (or once when watching starts): ``auto`` does not look for a
card on the other kind of reader. Which PC/SC reader is then used is the plain ``pcsc`` rule:
the first reader with a card. What the NFC path does when no frontend opens is the caller's
business (opening raises :class:`drivers.errors.NoCardFound`; the watcher keeps watching PC/SC
for a reader to be plugged in), which is why the PC/SC reason is handed back.

No driver is imported here at import time; ``drivers.pcsc`` is loaded when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kiosk.transport import TransportError

#: The NFC frontend ``auto`` falls back to (nfcpy's path: the first supported USB device).
AUTO_NFC_PATH = "usb"


@dataclass(frozen=True)
class AutoChoice:
    """What ``auto`` means now: ``kind`` ``"pcsc"`` (any reader) or ``"nfc"`` at ``path``.

    ``passed_over`` lists, as ``(what, why)``, the candidates that came first but were not
    usable (for ``"nfc"``: why not PC/SC), for messages such as NoCardFound's.
    """

    kind: Literal["pcsc", "nfc"]
    path: str = ""
    passed_over: tuple[tuple[str, str], ...] = ()


def choose_auto() -> AutoChoice:
    """PC/SC when pcscd answers with at least one reader, else the NFC frontend on USB."""
    try:
        from drivers.pcsc import list_readers
    except ImportError as exc:
        why = f"PC/SC readers are not available here ({exc})"
    else:
        try:
            if list_readers():
                return AutoChoice("pcsc")
            why = "no PC/SC reader is connected (is it plugged in? see `pcsc_scan`)"
        except TransportError as exc:
            why = str(exc)
    return AutoChoice("nfc", AUTO_NFC_PATH, (("PC/SC", why),))
