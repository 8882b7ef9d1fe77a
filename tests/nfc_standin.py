"""Stand-ins for an NFC frontend and a contactless CCCD, to test drivers/nfc.py without hardware.

No NFC frontend exists on the test machines and nfcpy cannot emulate a Type
4A card, so the two ends are stood in and the middle is nfcpy's own code:

* **The tag is real nfcpy.** :class:`StandinFrontend` hands a discovered
  target to ``nfc.tag.activate`` → ``nfc.tag.tt4.Type4ATag`` /
  ``Type4BTag`` (nfcpy 1.0.4, ``src/nfc/tag/tt4.py``). So what the driver
  talks to is nfcpy's documented ``Type4Tag``: ``transceive(data)`` returns
  the reply with SW1 SW2; RATS/ATTRIB pick FSC = min(card FSC,
  ``clf.max_send_data_size``) and FSD = 256 only when
  ``clf.max_recv_data_size`` >= 256, else 128 (``Type4ATag.__init__``);
  ``IsoDepInitiator.exchange`` chains commands in ``fsc - 3`` byte pieces,
  collects chained responses with R(ACK), follows S(WTX), retries with
  R(NAK) and finally raises ``Type4TagCommandError(TIMEOUT_ERROR)`` when the
  card stays silent; ``is_present`` is its R(NAK) presence check.
* **The frontend is a stand-in** for ``nfc.ContactlessFrontend``: the same
  ``connect(rdwr={...}, terminate=...)`` contract (mirrors
  ``ContactlessFrontend.connect`` / ``_rdwr_connect`` in
  ``src/nfc/clf/__init__.py``: targets, ``on-discover``, a false
  ``on-connect`` returns the tag at once, a true one waits while
  ``tag.is_present`` and returns ``on-release(tag)``, None once
  ``terminate()``), ``exchange(data, timeout)``, ``max_send_data_size`` /
  ``max_recv_data_size`` of the device profile, and a ``device`` whose
  module names the nfcpy driver (``nfc.clf.acr122`` …). It enforces the
  device's frame limits: a frame above them raises
  :class:`FrameLimitExceeded` (a test failure, never mistaken for a card
  error). ``iterations``/``interval`` are ignored: sensing is instant, and
  ``on_idle`` runs whenever nothing is in the field.
* **The card is a stand-in** ISO/IEC 14443-4 PICC around the software
  :class:`~simulators.card.chip.Chip`: ATS / ATTRIB answer, I-blocks chained
  both ways, R(ACK), R(NAK) answered with R(ACK) (nfcpy's presence check),
  optional S(WTX) before public-key APDUs. A card out of the field (or a
  chip that raises CardRemoved) answers nothing: the frontend raises
  ``nfc.clf.TimeoutError``, as nfcpy's drivers do when no frame comes back.

nfcpy imports ``usb1``, which loads libusb-1.0 at import time. The tests
never touch USB, so when the C library is missing a placeholder ``usb1``
module lets ``import nfc`` succeed (the driver's own missing-libusb message
is tested separately).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from drivers.nfc import DEVICES, NfcDevice
from kiosk.transport import CardRemoved
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip


def _import_nfc() -> Any:
    """nfcpy, with a placeholder usb1 module when libusb-1.0 itself is absent."""
    try:
        import nfc.clf
        import nfc.tag
        import nfc.tag.tt4
    except OSError:
        for name in [m for m in sys.modules if m == "nfc" or m.startswith("nfc.")]:
            del sys.modules[name]
        sys.modules["usb1"] = types.ModuleType("usb1")
        import nfc.clf
        import nfc.tag
        import nfc.tag.tt4
    return nfc


nfc = _import_nfc()

#: ISO/IEC 14443-4 FSCI/FSDI → frame size (the table nfcpy uses in tt4.py).
FRAME_SIZES = (16, 24, 32, 40, 48, 64, 96, 128, 256)
#: INS bytes for which a real chip does public-key work (and may ask for more time).
CRYPTO_INS = frozenset((0x82, 0x86, 0x88))


class FrameLimitExceeded(AssertionError):
    """A frame larger than the device can carry was handed to it (a test failure)."""


class StandinCard:
    """The ISO/IEC 14443-4 side of a contactless CCCD, answering for ``chip``.

    ``fsc`` is the frame size the card announces (ATS T0 / SENSB_RES);
    ``fwi`` its frame waiting integer; ``type_b`` makes it a type B card;
    ``wtx`` makes it ask for a waiting-time extension before each
    public-key APDU; ``mute`` makes a card that stays in the field but never
    answers an I-block (a hung chip). Logs: ``commands`` / ``responses``
    (every APDU assembled / sent back) and ``frames`` (frames answered).
    """

    def __init__(
        self,
        chip: Chip,
        *,
        fsc: int = 256,
        fwi: int = 8,
        type_b: bool = False,
        wtx: bool = False,
        uid: bytes = bytes.fromhex("08a1b2c3"),
    ) -> None:
        if fsc not in FRAME_SIZES:
            raise ValueError(f"fsc {fsc} is not one of {FRAME_SIZES}")
        self.chip = chip
        self.fsc = fsc
        self.fwi = fwi
        self.type_b = type_b
        self.wtx = wtx
        self.uid = uid
        self.mute = False
        self.fsd = 256
        self.commands: list[bytes] = []
        self.responses: list[bytes] = []
        self.frames = 0
        self._rx = b""
        self._tx = b""
        self._pending: bytes | None = None
        self._wtx_block = 0
        self._remove_after_frames: int | None = None

    @classmethod
    def sample(cls, name: str = "default", **options: Any) -> StandinCard:
        """A stand-in card holding the sample card ``name`` (chip options via ``chip=``)."""
        chip_options = options.pop("chip", {})
        return cls(make_chip(name, **chip_options), **options)

    # ---- in the field ---------------------------------------------------------------

    @property
    def in_field(self) -> bool:
        return not self.chip.removed

    def remove(self) -> None:
        """Take the card away: nothing answers any more."""
        self.chip.remove()

    def remove_after_frames(self, frames: int) -> None:
        """Leave the field after answering ``frames`` more frames (mid-chain tears)."""
        self._remove_after_frames = self.frames + frames

    def target(self) -> Any:
        """The nfcpy RemoteTarget a frontend's sense would report for this card."""
        if self.type_b:
            fsci = FRAME_SIZES.index(self.fsc)
            sensb = (
                bytes([0x50]) + self.uid + bytes(4) + bytes([0x00, fsci << 4 | 1, self.fwi << 4])
            )
            return nfc.clf.RemoteTarget("106B", sensb_res=bytearray(sensb))
        return nfc.clf.RemoteTarget(
            "106A",
            sens_res=bytearray(b"\x44\x00"),
            sel_res=bytearray(b"\x20"),  # ISO/IEC 14443-4 compliant
            sdd_res=bytearray(self.uid),
        )

    # ---- one frame in, one frame out --------------------------------------------------

    def exchange(self, frame: bytes) -> bytes:
        """Answer one frame from the reader; raises nfc.clf.TimeoutError when silent."""
        if self._remove_after_frames is not None and self.frames >= self._remove_after_frames:
            self.remove()
        if not self.in_field:
            raise nfc.clf.TimeoutError("no answer (card out of the field)")
        reply = self._answer(frame)
        self.frames += 1
        return reply

    def _answer(self, frame: bytes) -> bytes:
        pcb = frame[0]
        if pcb == 0xE0:  # RATS
            self.fsd = FRAME_SIZES[min(frame[1] >> 4, 8)]
            fsci = FRAME_SIZES.index(self.fsc)
            return bytes([0x05, 0x70 | fsci, 0x80, self.fwi << 4, 0x02])
        if pcb == 0x1D:  # ATTRIB (type B)
            self.fsd = FRAME_SIZES[min(frame[6] & 0x0F, 8)]
            return b"\x00"
        if pcb & 0xE2 == 0x02:  # I-block
            return self._i_block(pcb, frame[1:])
        if pcb & 0xF6 == 0xA2:  # R(ACK): send the next piece of a chained response
            return self._next_piece(pcb & 1)
        if pcb & 0xF6 == 0xB2:  # R(NAK): presence check / retransmission request
            return bytes([0xA2 | ((pcb & 1) ^ 1)])
        if pcb & 0xFE == 0xF2 and self._pending is not None:  # S(WTX) response
            response, self._pending = self._pending, None
            self._tx = response
            return self._next_piece(self._wtx_block)
        if pcb & 0xF7 == 0xC2:  # S(DESELECT)
            return bytes([pcb])
        raise nfc.clf.ProtocolError(f"stand-in card: unexpected PCB {pcb:02x}")

    def _i_block(self, pcb: int, inf: bytes) -> bytes:
        block = pcb & 1
        if self.mute:
            raise nfc.clf.TimeoutError("no answer (hung chip)")
        if pcb & 0x10:  # chaining: more of this command follows
            self._rx += inf
            return bytes([0xA2 | block])
        command, self._rx = self._rx + inf, b""
        self.commands.append(command)
        try:
            response = self.chip.process(command)
        except CardRemoved:
            raise nfc.clf.TimeoutError("no answer (card left mid-command)") from None
        self.responses.append(response)
        if self.wtx and len(command) >= 2 and command[1] in CRYPTO_INS:
            self._pending, self._wtx_block = response, block
            return b"\xf2\x01"
        self._tx = response
        return self._next_piece(block)

    def _next_piece(self, block: int) -> bytes:
        room = self.fsd - 3  # PCB + CRC
        piece, self._tx = self._tx[:room], self._tx[room:]
        more = 0x10 if self._tx else 0x00
        return bytes([0x02 | more | block]) + piece


class StandinFrontend:
    """A stand-in ``nfc.ContactlessFrontend`` for one of :data:`drivers.nfc.DEVICES`.

    ``card`` is what lies in the field (None: nothing). ``on_idle`` runs each
    time a sense finds nothing, so a test can place the next card. Logs:
    ``sent`` / ``received`` (every frame), ``connects`` (connect calls),
    ``closed``.
    """

    def __init__(self, device: str | NfcDevice = "rcs380", card: StandinCard | None = None) -> None:
        self.profile = DEVICES[device] if isinstance(device, str) else device
        self.card = card
        self.device = type("Device", (), {"__module__": f"nfc.clf.{self.profile.driver}"})()
        self.target: Any = None
        self.on_idle: Callable[[], None] = lambda: None
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        self.connects = 0
        self.closed = False
        self.keepalive: Any = None  # a test's taps() generator, so the session stays open

    # ---- the card in the field --------------------------------------------------------

    def place(self, card: StandinCard) -> None:
        self.card = card

    def take(self) -> None:
        """Lift the card off the reader."""
        if self.card is not None:
            self.card.remove()
        self.card = None

    # ---- nfc.ContactlessFrontend --------------------------------------------------------

    @property
    def max_send_data_size(self) -> int:
        return self.profile.max_send

    @property
    def max_recv_data_size(self) -> int:
        return self.profile.max_recv

    def exchange(self, send_data: bytes, timeout: float | None) -> bytearray:
        """Carry one frame to the card and its answer back, within the device's limits."""
        data = bytes(send_data)
        if len(data) > self.profile.max_send:
            raise FrameLimitExceeded(
                f"{len(data)}-byte frame to the card; the {self.profile.name} sends "
                f"at most {self.profile.max_send}"
            )
        self.sent.append(data)
        if self.card is None or not self.card.in_field:
            raise nfc.clf.TimeoutError("no answer")
        reply = self.card.exchange(data)
        if len(reply) > self.profile.max_recv:
            raise FrameLimitExceeded(
                f"{len(reply)}-byte frame from the card; the {self.profile.name} receives "
                f"at most {self.profile.max_recv}"
            )
        self.received.append(reply)
        return bytearray(reply)

    def sense(self, targets: list[str]) -> Any:
        """The card's target when it is in the field and of a type asked for."""
        if self.card is None or not self.card.in_field:
            return None
        target = self.card.target()
        return target if target.brty in targets else None

    def connect(self, **options: Any) -> Any:
        """Reader/writer mode of ``nfc.ContactlessFrontend.connect`` (see the module docstring)."""
        self.connects += 1
        terminate = options.get("terminate", lambda: False)
        rdwr = dict(options["rdwr"])
        rdwr.setdefault("targets", ["106A", "106B", "212F"])
        rdwr.setdefault("on-discover", lambda target: True)
        rdwr.setdefault("on-connect", lambda tag: True)
        rdwr.setdefault("on-release", lambda tag: True)
        while not terminate():
            target = self.sense(list(rdwr["targets"]))
            if target is None:
                self.on_idle()
                continue
            if not rdwr["on-discover"](target):
                continue
            self.target = target
            tag = nfc.tag.activate(self, target)
            if tag is None:
                continue
            if rdwr["on-connect"](tag):
                while not terminate() and tag.is_present:
                    self.on_idle()
                return rdwr["on-release"](tag)
            return tag
        return None

    def close(self) -> None:
        self.closed = True
