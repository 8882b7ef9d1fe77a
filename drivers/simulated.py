"""An in-process reader holding a software CCCD chip, with a model of the contactless link.

:class:`SimulatedTransport` satisfies :class:`kiosk.transport.Transport`: it
hands each command APDU to a :class:`simulators.card.chip.Chip` and returns
the reply. It never sleeps; instead it adds up ``modeled_seconds``, the time
the same exchange would take over ISO/IEC 14443 at a given bit rate, so tests
and the CLI can report realistic read times without waiting for them.

The model (:class:`LinkModel`) per APDU:

* each direction is an ISO/IEC 14443-4 I-block: prologue (PCB, 1 byte) +
  payload + CRC (2 bytes); a message longer than ``frame_size - 3`` bytes is
  chained over several I-blocks, each but the last acknowledged by a 3-byte
  R(ACK) block from the other side;
* every byte takes 9 bits on air (8 data bits + parity, ISO/IEC 14443-3
  type A) and every frame 2 more (start and end of frame);
* ``turnaround_s`` is added once per APDU (reader and chip processing,
  frame delay times), and ``chip_crypto_s`` once for each APDU that makes
  the chip do public-key work (MUTUAL AUTHENTICATE, GENERAL AUTHENTICATE,
  INTERNAL AUTHENTICATE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.errors import ReaderSpecError
from kiosk.transport import TransportError, collect_response

if TYPE_CHECKING:
    from simulators.card.chip import Chip

#: ISO/IEC 14443 bit rates (fc/128 ... fc/16, rounded as readers advertise them).
BIT_RATES = (106_000, 212_000, 424_000, 848_000)
#: Bits on air per byte: 8 data bits + 1 parity bit (type A).
BITS_PER_BYTE = 9
#: Start- and end-of-frame bits per frame.
FRAME_OVERHEAD_BITS = 2
#: PCB (1) + CRC (2) bytes framing every ISO/IEC 14443-4 block.
BLOCK_OVERHEAD_BYTES = 3
#: Size of an R(ACK) block (PCB + CRC).
R_BLOCK_BYTES = 3
#: INS bytes for which the chip does public-key work.
CRYPTO_INS = frozenset((0x82, 0x86, 0x88))

SHORT_MAX_COMMAND = 261  # 4 header + 1 Lc + 255 data + 1 Le
SHORT_MAX_RESPONSE = 258  # 256 data + SW1 SW2
EXT_MAX_COMMAND = 65544  # 4 header + 3 Lc + 65535 data + 2 Le
EXT_MAX_RESPONSE = 65538  # 65536 data + SW1 SW2


@dataclass(frozen=True)
class LinkModel:
    """Parameters of the modeled contactless link (see the module docstring for the formula).

    ``bit_rate`` in bit/s (0: no air time at all), ``frame_size`` the
    largest ISO/IEC 14443-4 block in bytes (FSC/FSD, PCB and CRC included),
    ``turnaround_s`` per APDU, ``chip_crypto_s`` per public-key APDU.
    """

    bit_rate: int = 424_000
    frame_size: int = 256
    turnaround_s: float = 0.004
    chip_crypto_s: float = 0.08

    def __post_init__(self) -> None:
        if self.bit_rate != 0 and self.bit_rate not in BIT_RATES:
            raise ValueError(f"bit_rate {self.bit_rate} is not one of {BIT_RATES} (or 0)")
        if not 16 <= self.frame_size <= 4096:
            raise ValueError(f"frame_size {self.frame_size} outside 16..4096")
        if self.turnaround_s < 0 or self.chip_crypto_s < 0:
            raise ValueError("times must not be negative")

    @classmethod
    def zero(cls) -> LinkModel:
        """No latency at all: every APDU takes 0 modeled seconds."""
        return cls(bit_rate=0, frame_size=256, turnaround_s=0.0, chip_crypto_s=0.0)

    @classmethod
    def preset(cls, bit_rate: int) -> LinkModel:
        """Typical values for a reader at ``bit_rate`` (106/212/424/848 kbit/s).

        Slower links go with older readers: smaller frames, longer turnaround
        and slower chip crypto (CCCD readers advertise "< 3 s" per card).
        """
        presets = {
            106_000: cls(106_000, 64, 0.006, 0.15),
            212_000: cls(212_000, 128, 0.005, 0.12),
            424_000: cls(424_000, 256, 0.004, 0.08),
            848_000: cls(848_000, 256, 0.003, 0.06),
        }
        try:
            return presets[bit_rate]
        except KeyError:
            raise ValueError(f"no preset for bit rate {bit_rate}; use one of {BIT_RATES}") from None

    def frames(self, n: int) -> int:
        """I-blocks needed for an ``n``-byte message (at least one)."""
        return max(1, math.ceil(n / (self.frame_size - BLOCK_OVERHEAD_BYTES)))

    def message_bits(self, n: int) -> int:
        """Bits on air for one ``n``-byte APDU in one direction, chaining acknowledgements too."""
        frames = self.frames(n)
        acks = frames - 1
        air_bytes = n + BLOCK_OVERHEAD_BYTES * frames + R_BLOCK_BYTES * acks
        return BITS_PER_BYTE * air_bytes + FRAME_OVERHEAD_BITS * (frames + acks)

    def apdu_seconds(self, command: bytes, response: bytes) -> float:
        """Modeled duration of one command/response exchange."""
        if self.bit_rate == 0:
            air = 0.0
        else:
            bits = self.message_bits(len(command)) + self.message_bits(len(response))
            air = bits / self.bit_rate
        crypto = self.chip_crypto_s if len(command) >= 2 and command[1] in CRYPTO_INS else 0.0
        return air + self.turnaround_s + crypto


class SimulatedTransport:
    """A :class:`kiosk.transport.Transport` whose card is an in-process :class:`Chip`.

    ``extended_length`` defaults to what the chip supports. Counters:
    ``apdu_count``, ``bytes_sent``, ``bytes_received`` and ``modeled_seconds``.
    """

    def __init__(
        self,
        chip: Chip,
        link: LinkModel | None = None,
        *,
        extended_length: bool | None = None,
    ) -> None:
        self.chip = chip
        self.link = link if link is not None else LinkModel.zero()
        self._extended = chip.extended_length if extended_length is None else extended_length
        self.closed = False
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.modeled_seconds = 0.0

    @property
    def max_command_len(self) -> int:
        return EXT_MAX_COMMAND if self._extended else SHORT_MAX_COMMAND

    @property
    def max_response_len(self) -> int:
        return EXT_MAX_RESPONSE if self._extended else SHORT_MAX_RESPONSE

    @property
    def extended_length(self) -> bool:
        return self._extended

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU to the chip; raises CardRemoved if it left the field."""
        if self.closed:
            raise TransportError("the simulated reader is closed")
        apdu = bytes(apdu)
        if len(apdu) < 4:
            raise TransportError(f"command APDU of {len(apdu)} bytes")
        if len(apdu) > self.max_command_len:
            raise TransportError(
                f"command APDU of {len(apdu)} bytes exceeds the reader's {self.max_command_len}"
            )
        # Like a reader's driver: a long reply announced with 61xx is collected here.
        return collect_response(self._exchange(apdu), self._exchange)

    def _exchange(self, apdu: bytes) -> bytes:
        """One command/response pair on the modeled link."""
        reply = self.chip.process(apdu)  # CardRemoved propagates as is
        self.apdu_count += 1
        self.bytes_sent += len(apdu)
        self.bytes_received += len(reply)
        self.modeled_seconds += self.link.apdu_seconds(apdu, reply)
        if len(reply) > self.max_response_len or len(reply) < 2:
            raise TransportError(
                f"reply of {len(reply)} bytes does not fit the reader's {self.max_response_len}"
            )
        return reply

    def close(self) -> None:
        """Release the simulated reader; idempotent. The chip is left as it is."""
        self.closed = True

    def __enter__(self) -> SimulatedTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_simulated(
    name: str, *, link: LinkModel | None = None, extended_length: bool | None = None, **options: Any
) -> SimulatedTransport:
    """A simulated reader with the sample card ``name`` in its field.

    ``name`` may carry a fault for testers: ``default+clone``,
    ``anh-tuyet+tampered-dg2`` (see :data:`simulators.card.faults.FAULTS`).
    ``options`` go to :func:`simulators.card.personalize.make_chip` (chip
    options such as ``mode``, ``max_read``, ``plain_errors``, and ``rng``).
    """
    card, _, fault = name.partition("+")
    if fault:
        from simulators.card.faults import make_faulty_chip

        chip = make_faulty_chip(card, fault, **options)
    else:
        from simulators.card.personalize import make_chip

        chip = make_chip(card, **options)
    return SimulatedTransport(chip, link, extended_length=extended_length)


def open_sim_reader(name: str, **options: Any) -> SimulatedTransport:
    """:func:`open_simulated` for ``sim:NAME`` reader names: unknown cards and faults are
    :class:`~drivers.errors.ReaderSpecError`.

    The registry opens ``sim:`` names through here so that it never imports the simulator
    itself (only this module does): a bad card or fault name is a reader-name mistake, the
    same error a bad ``pcsc``/``nfc`` name gives.
    """
    from simulators.card.faults import FaultError
    from simulators.card.profile import UnknownProfile

    try:
        return open_simulated(name, **options)
    except UnknownProfile as exc:
        raise ReaderSpecError(f"no simulated card named {name!r} (see `cccd-sim cards`)") from exc
    except FaultError as exc:
        raise ReaderSpecError(f"sim:{name}: {exc}") from exc
