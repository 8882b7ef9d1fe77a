"""Reading elementary files with the fewest APDUs the transport and the chip allow.

The first READ BINARY of a file addresses it by short EF identifier (P1 =
0x80 | SFI), which selects it and returns its first bytes in one APDU; the
outer TLV header tells the total size, which is checked against the file's
cap before the rest is read. Chunks use the largest Ne the transport carries
(extended length when both the transport and the chip take it). On ``6700``
the reader drops to short length, then to 223 bytes (which
every chip takes), then by quarters; on ``6Cxx`` it re-issues
with the length the chip names. Both fallbacks happen inside one secure
messaging session: the SM layer keeps the send sequence counter in step for
protected and unprotected error replies alike. Offsets above 32767 use the
odd READ BINARY (INS B1) with the offset in DO'54' and the data in DO'53'.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import (
    INS_READ_BINARY,
    INS_READ_BINARY_ODD,
    INS_SELECT,
    SHORT_MAX_NE,
    SW_END_OF_FILE_WARNING,
    SW_FILE_NOT_FOUND,
    SW_OK,
    SW_WRONG_LENGTH,
    CommandAPDU,
    ResponseAPDU,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import FileTooLarge, StatusError, TLVError
from kiosk.emrtd.lds.files import EF_SOD, EFInfo

#: Largest short response APDU (256 data bytes + SW1 SW2).
SHORT_RESPONSE = SHORT_MAX_NE + 2
#: Offsets above this need the odd-INS READ BINARY.
MAX_EVEN_OFFSET = 0x7FFF
#: Largest offset reachable with P2 alone after an SFI read.
MAX_SFI_OFFSET = 0xFF
#: The READ BINARY size every chip takes (a short protected reply of 223 bytes fits any SM).
SAFE_NE = 223
#: Smallest Ne we fall back to before giving up (a chip that rejects this is broken).
MIN_NE = 16
#: Longest TLV header we need to see to size a file (tag ≤ 2 bytes, length ≤ 4 bytes).
HEADER_PROBE = 8

ProgressFn = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


class FileReader:
    """Reads whole files through a :class:`CardChannel`, remembering what the chip accepts."""

    def __init__(self, channel: CardChannel) -> None:
        self.channel = channel
        #: Whether to try extended-length READ BINARY; cleared on the first refusal.
        self.extended = channel.transport.extended_length
        self._ne_cap: int | None = None  # the chip's limit, learned from 6700/6Cxx

    # ---- sizing -------------------------------------------------------------------------

    def max_ne(self) -> int:
        """The largest plaintext Ne for one READ BINARY right now."""
        transport = self.channel.transport
        if self.extended:
            resp_limit = transport.max_response_len
        else:
            resp_limit = min(transport.max_response_len, SHORT_RESPONSE)
        sm = self.channel.sm
        ne = sm.max_plain_response(resp_limit) if sm is not None else resp_limit - 2
        ne = min(ne, 65536 if self.extended else SHORT_MAX_NE)
        if self._ne_cap is not None:
            ne = min(ne, self._ne_cap)
        return max(ne, 1)

    def _after_wrong_length(self, asked: int) -> bool:
        """Adapt after ``6700``; False when there is nothing smaller left to try.

        Extended length goes first; then 223 bytes (which every chip takes);
        below that, steps of a quarter, so a chip limited to 100 bytes ends
        near 93, not at 55 as halving would.
        """
        if self.extended:
            self.extended = False
            return True
        smaller = SAFE_NE if asked > SAFE_NE else asked - max(asked // 4, 1)
        if smaller < MIN_NE:
            return False
        self._ne_cap = smaller
        return True

    # ---- commands -----------------------------------------------------------------------

    def _send(self, cmd: CommandAPDU) -> ResponseAPDU:
        return self.channel.send(cmd, extended=cmd.needs_extended)

    def select(self, info: EFInfo, *, p1: int = 0x02) -> ResponseAPDU:
        """SELECT an EF by file identifier (no FCI requested)."""
        cmd = CommandAPDU(0x00, INS_SELECT, p1, 0x0C, info.fid.to_bytes(2, "big"))
        return self._send(cmd)

    def _read_chunk(self, offset: int, ne: int, sfi: int | None) -> tuple[ResponseAPDU, int]:
        """One READ BINARY of up to ``ne`` bytes; returns the reply and the Ne actually sent.

        For the odd INS the Ne sent covers the DO'53' header around the data,
        so the data asked for is ``ne`` minus that header.
        """
        if sfi is not None:
            cmd = CommandAPDU(0x00, INS_READ_BINARY, 0x80 | sfi, offset, ne=ne)
        elif offset <= MAX_EVEN_OFFSET:
            cmd = CommandAPDU(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, ne=ne)
        else:
            do54 = tlv.encode(0x54, offset.to_bytes(3 if offset > 0xFFFF else 2, "big"))
            # DO'53' wraps the reply: ask for its header within the same Ne.
            data_ne = ne - 1 - len(tlv.encode_length(ne))
            le = data_ne + 1 + len(tlv.encode_length(data_ne))
            cmd = CommandAPDU(0x00, INS_READ_BINARY_ODD, 0x00, 0x00, do54, ne=le)
            resp = self._send(cmd)
            if resp.sw not in (SW_OK, SW_END_OF_FILE_WARNING) or not resp.data:
                return resp, le
            try:
                obj, _ = tlv.decode_prefix(resp.data)
            except TLVError as exc:
                raise StatusError(resp.sw, f"odd READ BINARY reply not in DO'53': {exc}") from exc
            return ResponseAPDU(obj.value, resp.sw), le
        return self._send(cmd), ne

    def read_chunk(
        self, offset: int, length: int, sfi: int | None = None, *, size_known: bool = True
    ) -> bytes:
        """Read up to ``length`` bytes at ``offset``, adapting Ne on 6700/6Cxx.

        ``6Cxx`` names the Ne that works for *this* command. It becomes the
        cap for the rest of the session only when it is below what we needed
        from a file of known size (the chip's own limit); a ``6Cxx`` that just
        says how many bytes a small file has left must not shrink later reads.
        """
        odd = sfi is None and offset > MAX_EVEN_OFFSET
        named: int | None = None  # the Ne the chip named for this chunk
        while True:
            ne = self.max_ne() if named is None else min(self.max_ne(), named)
            if not odd:
                ne = min(length, ne)
            elif ne > length + 4:
                ne = length + 1 + len(tlv.encode_length(length))
            resp, sent = self._read_chunk(offset, ne, sfi)
            if resp.sw in (SW_OK, SW_END_OF_FILE_WARNING):
                return resp.data
            if resp.sw1 == 0x6C and (resp.sw2 or 256) < sent:
                named = resp.sw2 or 256
                if size_known and named < min(length, sent):
                    self._ne_cap = named
                continue
            if resp.sw == SW_WRONG_LENGTH and self._after_wrong_length(sent):
                continue
            raise StatusError(resp.sw, command="READ BINARY")

    # ---- whole files --------------------------------------------------------------------

    def read_file(
        self, info: EFInfo, *, progress: ProgressFn = _no_progress, use_sfi: bool = True
    ) -> bytes:
        """Read a whole TLV-structured (or, for EF.CardAccess, bare) EF.

        Raises :class:`StatusError` with the chip's SW when the file cannot be
        read (``6A82`` absent, ``6982`` protected) and :class:`FileTooLarge`
        when the announced size is above the file's cap.
        """
        first: bytes
        try:
            first = self.read_chunk(
                0, self.max_ne(), info.sfi if use_sfi else None, size_known=False
            )
        except StatusError as exc:
            if not use_sfi or exc.sw in (0x6982,):
                raise
            # Some chips do not take short EF identifiers: select by FID and retry.
            sel = self.select(info)
            if sel.sw != SW_OK:
                raise StatusError(sel.sw, command=f"SELECT {info.name}") from exc
            first = self.read_chunk(0, self.max_ne(), size_known=False)
        if not first:
            raise StatusError(SW_FILE_NOT_FOUND, f"{info.name} is empty")
        try:
            total = tlv.total_length(first[:HEADER_PROBE], max_length=info.max_size)
        except TLVError as exc:
            if info.name == EF_SOD.name and first[1:2] == b"\x80":
                return self._read_indefinite(info, first, progress)
            raise FileTooLarge(f"{info.name}: {exc}") from exc
        if total > info.max_size:
            raise FileTooLarge(f"{info.name} announces {total} bytes, cap is {info.max_size}")
        data = bytearray(first[:total])
        progress(info.name, len(data), total)
        while len(data) < total:
            offset = len(data)
            chunk = self.read_chunk(offset, total - offset)
            if not chunk:
                raise StatusError(SW_END_OF_FILE_WARNING, f"{info.name} ended at {offset}/{total}")
            data += chunk[: total - offset]
            progress(info.name, len(data), total)
        return bytes(data)

    def _read_indefinite(self, info: EFInfo, first: bytes, progress: ProgressFn) -> bytes:
        """The rest of a file whose outer length is indefinite (BER; EF.SOD on some chips).

        No size is announced, so chunks are read until the capped BER walk finds the
        object's end-of-contents, the chip reports the end of the file, or the file's
        cap is reached (:class:`FileTooLarge`).
        """
        data = bytearray(first)
        while True:
            try:
                obj, rest = tlv.decode_prefix(bytes(data), max_length=info.max_size, ber=True)
            except TLVError as exc:
                if len(data) >= info.max_size:
                    raise FileTooLarge(f"{info.name}: no end within {info.max_size} bytes") from exc
                try:
                    chunk = self.read_chunk(len(data), self.max_ne(), size_known=False)
                except StatusError as end:
                    raise FileTooLarge(f"{info.name}: ended before its end-of-contents") from end
                if not chunk:
                    raise FileTooLarge(f"{info.name}: ended before its end-of-contents") from exc
                data += chunk
                progress(info.name, len(data), len(data))
                continue
            del obj
            return bytes(data[: len(data) - len(rest)])
