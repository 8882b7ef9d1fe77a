"""PC/SC readers through pcscd (pyscard): listing, watching, and a :class:`Transport`.

What this module gives the rest of the kiosk:

* :func:`list_readers` — the reader names pcscd knows (``[]`` when none);
* :func:`open_pcsc` — a :class:`PcscTransport` on the named reader, or on the
  first reader with a card in it;
* :func:`select_reader` — which reader a configured ``pcsc:NAME`` means (exact name, else
  the only reader containing it, ignoring case): the one rule for opening and watching;
* :func:`wait_for_card` — block (with a timeout) until a reader holds a card;
* :class:`PcscMonitor` — a background thread reporting readers appearing and
  vanishing and cards arriving and leaving, that survives pcscd restarts.

Why it looks the way it does (facts from CCCD.md, "Readers in the field"):

* pyscard never sends GET RESPONSE after ``61xx`` and never re-issues after
  ``6Cxx``; :class:`PcscTransport` does both, so the stack above sees one
  reply per command whatever the protocol (T=0 or T=1) and the reader.
* A card pulled mid-read shows up as ``CardConnectionException`` with varying
  hresults (0, ``0x80100016``, ``0x80100069``) and then ``NoCardException``:
  :func:`map_exception` turns all of them into :class:`CardRemoved`, a reader or
  pcscd going away into :class:`ReaderGone`, and anything else into
  :class:`TransportError` — no pyscard exception ever leaves this module.
* pyscard's ``CardMonitor``/``ReaderMonitor`` are process-wide singletons whose
  threads die for good when pcscd goes away (``EstablishContextException``,
  ``0x8010001D``). :class:`PcscMonitor` uses ``SCardGetStatusChange`` on its own
  context instead, and when pcscd stops it drops the context and re-establishes
  a new one (and so re-creates its watch) as soon as pcscd is back.

Threading: every call here blocks on pcscd (a transmit can take as long as the
card takes). Call them from a worker thread, never from the GUI thread; the
monitor's callback runs on the monitor's own thread, so a GUI must forward the
event to its thread (e.g. with a queued Qt signal) instead of touching widgets.
A :class:`PcscTransport` serialises its own transmits with a lock.

This is the only module that imports pyscard.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.transport import CardRemoved, TransportError, TransportTimeout, collect_response

try:  # pyscard needs libpcsclite1 at run time; report its absence as a TransportError.
    from smartcard import scard as _scard
    from smartcard.Exceptions import NoCardException, SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException

    _IMPORT_ERROR: ImportError | None = None
except ImportError as _exc:  # pragma: no cover - exercised only on a broken install
    _scard = None
    NoCardException = SmartcardException = BaseSCardException = None
    _IMPORT_ERROR = _exc

# ---- PC/SC return codes (pcsc-lite pcsclite.h; the same values on Windows) ----------------
SCARD_S_SUCCESS = 0x00000000
SCARD_LEAVE_CARD = 0
SCARD_RESET_CARD = 1
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_INSUFFICIENT_BUFFER = 0x80100008
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

#: hresults meaning "the card is gone (or was reset under us)": the session must start over.
#: 0 is what pyscard reports when a transmit "succeeded" without a usable reply.
CARD_GONE = frozenset(
    {
        SCARD_S_SUCCESS,
        SCARD_E_NO_SMARTCARD,
        SCARD_E_NOT_TRANSACTED,
        SCARD_W_REMOVED_CARD,
        SCARD_W_RESET_CARD,
        SCARD_W_UNPOWERED_CARD,
        SCARD_W_UNRESPONSIVE_CARD,
    }
)
#: hresults meaning "the reader or pcscd itself is gone".
READER_GONE = frozenset(
    {
        SCARD_E_INVALID_HANDLE,
        SCARD_E_UNKNOWN_READER,
        SCARD_F_COMM_ERROR,
        SCARD_E_READER_UNAVAILABLE,
        SCARD_E_NO_SERVICE,
        SCARD_E_SERVICE_STOPPED,
    }
)
#: pcscd's special reader name: watching it reports readers being added or removed.
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"

# Largest APDUs (header/trailer included) — the same limits as drivers.simulated.
SHORT_MAX_COMMAND = 261
SHORT_MAX_RESPONSE = 258
EXT_MAX_COMMAND = 65544
EXT_MAX_RESPONSE = 65538

T0 = 0x01
T1 = 0x02

#: Extended-length probe 1: READ BINARY of EF.CardAccess (SFI 1C) with an extended Le of 4.
PROBE_READ_CARD_ACCESS = bytes.fromhex("00B09C00000004")
#: Extended-length probe 2: GET CHALLENGE with an extended Le of 8 (chips without EF.CardAccess).
PROBE_GET_CHALLENGE = bytes.fromhex("00840000000008")
SW_WRONG_LENGTH = 0x6700


class ReaderGone(TransportError):
    """The reader (or pcscd itself) went away; open it again once it is back."""


class ReaderNotFound(TransportError):
    """No PC/SC reader by that name (or no reader at all)."""


class PcscUnavailable(ReaderGone):
    """pcscd is not running or pyscard cannot load libpcsclite."""


def _hresult(exc: BaseException) -> int | None:
    value = getattr(exc, "hresult", None)
    if not isinstance(value, int) or value == -1:
        return None
    return value & 0xFFFFFFFF


def map_exception(exc: BaseException, reader: str = "") -> TransportError:
    """The project exception for a pyscard (or PC/SC) failure ``exc``.

    ``NoCardException`` and every "card gone" hresult give :class:`CardRemoved`,
    reader/service failures :class:`ReaderGone` (:class:`PcscUnavailable` when pcscd
    is not running), ``SCARD_E_TIMEOUT`` :class:`TransportTimeout`, anything else
    :class:`TransportError`. The message names the reader and the hresult.
    """
    if isinstance(exc, TransportError):
        return exc
    hr = _hresult(exc)
    where = f" on {reader!r}" if reader else ""
    code = f" (0x{hr:08X})" if hr is not None else ""
    text = f"{exc}{where}{code}".strip()
    if NoCardException is not None and isinstance(exc, NoCardException):
        return CardRemoved(f"no card{where}: {exc}{code}")
    if hr == SCARD_E_NO_SERVICE:
        return PcscUnavailable(
            f"pcscd is not running{where}{code}: start it (Debian package pcscd)"
        )
    if hr in READER_GONE:
        return ReaderGone(f"reader gone: {text}")
    if hr == SCARD_E_TIMEOUT:
        return TransportTimeout(f"reader timed out: {text}")
    if hr in CARD_GONE or (hr is None and _is_pyscard(exc)):
        return CardRemoved(f"card removed: {text}")
    return TransportError(f"PC/SC error: {text}")


def _is_pyscard(exc: BaseException) -> bool:
    return (SmartcardException is not None and isinstance(exc, SmartcardException)) or (
        BaseSCardException is not None and isinstance(exc, BaseSCardException)
    )


def _require_pyscard() -> Any:
    if _scard is None:
        raise PcscUnavailable(
            f"pyscard cannot load libpcsclite ({_IMPORT_ERROR}): install the Debian packages "
            "pcscd and libpcsclite1"
        )
    return _scard


class _Context:
    """One PC/SC context (``SCardEstablishContext``), released on exit."""

    def __init__(self) -> None:
        sc = _require_pyscard()
        hr, self.handle = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        hr &= 0xFFFFFFFF
        if hr != SCARD_S_SUCCESS:
            raise _hr_error(hr, "cannot reach pcscd")

    def readers(self) -> list[str]:
        sc = _require_pyscard()
        hr, names = sc.SCardListReaders(self.handle, [])
        hr &= 0xFFFFFFFF
        if hr == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != SCARD_S_SUCCESS:
            raise _hr_error(hr, "cannot list readers")
        return list(names)

    def status(
        self, states: Sequence[tuple[str, int]], timeout_ms: int
    ) -> tuple[int, list[tuple[str, int, bytes]]]:
        sc = _require_pyscard()
        hr, new = sc.SCardGetStatusChange(self.handle, timeout_ms, list(states))
        return hr & 0xFFFFFFFF, [(str(r), int(s), bytes(a)) for r, s, a in new]

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            _require_pyscard().SCardCancel(self.handle)

    def release(self) -> None:
        with contextlib.suppress(Exception):
            _require_pyscard().SCardReleaseContext(self.handle)

    def __enter__(self) -> _Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _HrError(Exception):
    def __init__(self, message: str, hresult: int) -> None:
        super().__init__(message)
        self.hresult = hresult


def _hr_error(hr: int, what: str) -> TransportError:
    return map_exception(_HrError(what, hr))


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd knows, in pcscd's order (``[]`` when there are none).

    Raises :class:`PcscUnavailable` when pcscd is not running.
    """
    with _Context() as ctx:
        return ctx.readers()


def readers_with_card() -> list[str]:
    """Names of the readers that hold a card right now."""
    sc = _require_pyscard()
    with _Context() as ctx:
        names = ctx.readers()
        if not names:
            return []
        hr, states = ctx.status([(n, sc.SCARD_STATE_UNAWARE) for n in names], 0)
        if hr not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
            raise _hr_error(hr, "cannot read reader states")
        return [r for r, s, _ in states if s & sc.SCARD_STATE_PRESENT]


def card_atrs() -> dict[str, bytes]:
    """The ATR of the card on each reader that holds one (reader name → ATR bytes)."""
    sc = _require_pyscard()
    with _Context() as ctx:
        names = ctx.readers()
        if not names:
            return {}
        hr, states = ctx.status([(n, sc.SCARD_STATE_UNAWARE) for n in names], 0)
        if hr not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
            raise _hr_error(hr, "cannot read reader states")
        return {r: atr for r, s, atr in states if s & sc.SCARD_STATE_PRESENT}


def reader_matches(name: str, reader: str) -> bool:
    """Whether the configured reader ``name`` could mean the reader called ``reader``.

    True when ``name`` is part of ``reader``, ignoring case (so the whole name matches too).
    Only a candidate: :func:`select_reader` decides among all readers (an exact name wins, a
    part must be unique).
    """
    return name.lower() in reader.lower()


def select_reader(name: str, readers: Sequence[str]) -> str:
    """The reader the configured ``name`` (``pcsc:NAME``) means among ``readers``.

    The one rule, for opening (:func:`open_pcsc`, :func:`wait_for_card`) and for watching
    (:class:`drivers.watch.CardWatcher`) alike: a reader whose name is exactly ``name``;
    else the only reader :func:`reader_matches` (``name`` is part of it, ignoring case).
    Exact first, so ``Reader 0`` still means ``Reader 0`` when ``Reader 01`` is plugged in
    too; unique otherwise, so a short name never silently picks one of two readers (the
    kiosk would read cards from the wrong counter). Raises :class:`ReaderNotFound` when no
    reader matches, or when several do (the message lists the readers).
    """
    if name in readers:
        return name
    hits = [r for r in readers if reader_matches(name, r)]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(repr(r) for r in readers) or "none"
    if hits:
        raise ReaderNotFound(
            f"reader name {name!r} matches several readers ({known}): give more of the name"
        )
    raise ReaderNotFound(
        f"no PC/SC reader {name!r} (readers: {known}): plug it in or correct the name "
        "(see `pcsc_scan`)"
    )


def wait_for_card(name: str | None = None, timeout: float = 10.0) -> str:
    """Block until reader ``name`` (any reader when None) holds a card; return its name.

    Raises :class:`TransportTimeout` after ``timeout`` seconds, and
    :class:`ReaderNotFound` / :class:`PcscUnavailable` as :func:`open_pcsc` does.
    """
    return _wait(name, True, timeout)


def wait_for_removal(name: str | None = None, timeout: float = 10.0) -> None:
    """Block until reader ``name`` (every reader when None) is empty, as pcscd sees it."""
    _wait(name, False, timeout)


def _wait(name: str | None, present: bool, timeout: float) -> str:
    sc = _require_pyscard()
    deadline = time.monotonic() + timeout
    with _Context() as ctx:
        while True:
            names = ctx.readers()
            watch = [select_reader(name, names)] if name is not None else names
            left = deadline - time.monotonic()
            if watch:
                hr, states = ctx.status([(n, sc.SCARD_STATE_UNAWARE) for n in watch], 0)
                if hr not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
                    raise _hr_error(hr, "cannot watch readers")
                full = [r for r, s, _ in states if s & sc.SCARD_STATE_PRESENT]
                if present and full:
                    return full[0]
                if not present and not full:
                    return ""
                if left <= 0:
                    break
                current = [(r, s & ~sc.SCARD_STATE_CHANGED) for r, s, _ in states]
                hr, _ = ctx.status(current, int(min(left, 0.5) * 1000))
                if hr not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
                    raise _hr_error(hr, "cannot watch readers")
            elif left <= 0 or not present:
                break
            else:
                time.sleep(min(left, 0.1))
    if not present and not watch:
        return ""
    what = "no card on" if present else "the card still in"
    raise TransportTimeout(f"{what} {name or 'any reader'} after {timeout:g} s")


# ---- the transport ---------------------------------------------------------------------


class Connection(Protocol):
    """What :class:`PcscTransport` needs of a pyscard ``CardConnection`` (tests fake it)."""

    disposition: int  # what disconnect() does with the card

    def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None: ...

    def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None: ...

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]: ...

    def getATR(self) -> list[int]: ...

    def disconnect(self) -> None: ...


ConnectionFactory = Callable[[str], Connection]


def _pyscard_connection(reader: str) -> Connection:
    _require_pyscard()
    from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection

    conn: Connection = PCSCCardConnection(reader)
    return conn


def _discard(conn: Connection) -> None:
    """Disconnect and release ``conn``, whatever state pcscd is in.

    pyscard's connection releases its context again in ``__del__`` and raises there
    when pcscd has gone meanwhile; clearing its handles keeps that quiet.
    """
    with contextlib.suppress(Exception):
        conn.disconnect()
    release = getattr(conn, "release", None)
    if callable(release):
        with contextlib.suppress(Exception):
            release()
    for handle in ("hcard", "hcontext"):
        if getattr(conn, handle, None) is not None:
            with contextlib.suppress(Exception):
                setattr(conn, handle, None)


def with_le(apdu: bytes, le: int) -> bytes | None:
    """``apdu`` (short form) with its Le set to ``le`` (0 = 256); None for extended APDUs."""
    header, body = apdu[:4], apdu[4:]
    tail = bytes([le & 0xFF])
    if not body:
        return header + tail  # case 1 -> case 2
    if len(body) == 1:
        return header + tail  # case 2
    lc = body[0]
    if lc == 0:
        return None  # extended length: 6Cxx does not apply
    if len(body) == 1 + lc:
        return apdu + tail  # case 3 -> case 4
    if len(body) == 2 + lc:
        return apdu[:-1] + tail  # case 4
    return None


class PcscTransport:
    """A :class:`kiosk.transport.Transport` on one PC/SC reader (pcscd through pyscard).

    Connects shared, T=1 first then T=0, and with ``reset`` (default) warm-resets
    the card so no secure messaging session of an earlier read survives.
    ``extended_length`` True/False forces extended-length APDUs on or off; None
    (default) probes with two harmless extended-length commands (READ BINARY of
    EF.CardAccess by SFI, then GET CHALLENGE) and uses short APDUs unless both
    the reader and the card carry one. ``61xx`` is followed by GET RESPONSE and a
    plain ``6Cxx`` re-issued with Le = xx, inside :meth:`transmit`. Counters:
    ``apdu_count`` (APDUs on the wire, GET RESPONSE included), ``bytes_sent``,
    ``bytes_received``.
    """

    def __init__(
        self,
        reader: str,
        *,
        extended_length: bool | None = None,
        reset: bool = True,
        connection_factory: ConnectionFactory | None = None,
    ) -> None:
        self.reader = reader
        self.reset = reset
        self._factory = connection_factory or _pyscard_connection
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self.closed = False
        self.protocol: int | None = None
        self.atr = b""
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self._extended = False
        self._connect()
        try:
            self._extended = self._probe() if extended_length is None else extended_length
        except BaseException:
            self.close()
            raise

    # -- Transport properties ---------------------------------------------------------------

    @property
    def max_command_len(self) -> int:
        return EXT_MAX_COMMAND if self._extended else SHORT_MAX_COMMAND

    @property
    def max_response_len(self) -> int:
        return EXT_MAX_RESPONSE if self._extended else SHORT_MAX_RESPONSE

    @property
    def extended_length(self) -> bool:
        return self._extended

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            conn = self._factory(self.reader)
        except Exception as exc:
            raise map_exception(exc, self.reader) from exc
        last: TransportError | None = None
        for protocol in (T1, T0):
            try:
                conn.connect(protocol, None, SCARD_LEAVE_CARD)
            except Exception as exc:
                err = map_exception(exc, self.reader)
                if isinstance(err, CardRemoved | ReaderGone):
                    _discard(conn)
                    raise err from exc
                last = err
                continue
            self._conn = conn
            self.protocol = protocol
            try:
                if self.reset:
                    conn.reconnect(protocol, None, SCARD_RESET_CARD)
                conn.disposition = SCARD_LEAVE_CARD  # what disconnect() does
                self.atr = bytes(conn.getATR())
            except Exception as exc:
                self._conn = None
                _discard(conn)
                raise map_exception(exc, self.reader) from exc
            return
        _discard(conn)
        assert last is not None
        raise last

    def _probe(self) -> bool:
        """Whether extended-length APDUs reach the card and the card takes them."""
        for probe in (PROBE_READ_CARD_ACCESS, PROBE_GET_CHALLENGE):
            try:
                reply = self._exchange(probe)
            except CardRemoved:
                if self._card_present():
                    return False  # the reader refused to carry it
                raise
            except (ReaderGone, TransportTimeout):
                raise
            except TransportError:
                return False  # e.g. the reader's buffer is too small
            sw = int.from_bytes(reply[-2:], "big")
            if sw == SW_WRONG_LENGTH or reply[-2] in (0x6D, 0x6E):
                return False
            if reply[-2] in (0x90, 0x62):
                return True
        return False

    def _card_present(self) -> bool:
        try:
            assert self._conn is not None
            self._conn.getATR()
        except Exception:
            return False
        return True

    # -- I/O --------------------------------------------------------------------------------

    def _exchange(self, apdu: bytes) -> bytes:
        """One APDU on the wire; pyscard exceptions mapped."""
        conn = self._conn
        if self.closed or conn is None:
            raise TransportError(f"the PC/SC reader {self.reader!r} is closed")
        try:
            data, sw1, sw2 = conn.transmit(list(apdu))
        except Exception as exc:
            raise map_exception(exc, self.reader) from exc
        reply = bytes(data) + bytes((sw1, sw2))
        self.apdu_count += 1
        self.bytes_sent += len(apdu)
        self.bytes_received += len(reply)
        return reply

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return data + SW1 SW2 after GET RESPONSE / 6Cxx handling.

        Raises :class:`CardRemoved` when the card left, :class:`ReaderGone` when the
        reader or pcscd did, :class:`TransportError` for anything else.
        """
        apdu = bytes(apdu)
        if len(apdu) < 4:
            raise TransportError(f"command APDU of {len(apdu)} bytes")
        if len(apdu) > self.max_command_len:
            raise TransportError(
                f"command APDU of {len(apdu)} bytes exceeds the reader's {self.max_command_len}"
            )
        with self._lock:
            reply = self._exchange(apdu)
            if reply[-2] == 0x6C and apdu[0] & 0x0C == 0:
                again = with_le(apdu, reply[-1])
                if again is not None:
                    reply = self._exchange(again)
            reply = collect_response(reply, self._exchange)  # 61xx: GET RESPONSE
        return reply

    def close(self) -> None:
        """Disconnect (leaving the card as it is) and release the context; idempotent.

        The card is never powered down or reset here: when it has just been pulled
        (pcscd may not know yet), that request makes pcscd with vpcd miss every later
        card. The reset happens at the next connect instead (see ``reset``).
        """
        with self._lock:
            if self.closed:
                return
            self.closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            _discard(conn)

    def __enter__(self) -> PcscTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pcsc(name: str | None = None, *, extended_length: bool | None = None) -> PcscTransport:
    """A :class:`PcscTransport` on reader ``name``, or on the first reader with a card.

    ``name`` is a reader's full name or a unique part of it, ignoring case (the rule of
    :func:`select_reader`, which the card watcher follows too).
    Raises :class:`ReaderNotFound` (no such reader / no reader at all),
    :class:`CardRemoved` (no card), :class:`PcscUnavailable` (pcscd not running).
    """
    names = list_readers()
    if not names:
        raise ReaderNotFound("no PC/SC reader is connected (is it plugged in? see `pcsc_scan`)")
    if name is not None:
        return PcscTransport(select_reader(name, names), extended_length=extended_length)
    for reader in readers_with_card():
        try:
            return PcscTransport(reader, extended_length=extended_length)
        except CardRemoved:
            continue
    raise CardRemoved(f"no card on any PC/SC reader ({', '.join(names)})")


# ---- the monitor -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderEvent:
    """One change seen by :class:`PcscMonitor`.

    ``kind``: ``"reader-added"``, ``"reader-removed"``, ``"card-inserted"``,
    ``"card-removed"``, ``"service-lost"`` (pcscd went away; ``reader`` is ""),
    ``"service-back"``. ``atr`` is set for ``"card-inserted"``.
    """

    kind: str
    reader: str = ""
    atr: bytes = b""


EventCallback = Callable[[ReaderEvent], None]


class PcscMonitor:
    """Watches readers and cards on a daemon thread and reports every change to ``callback``.

    The callback runs on the monitor thread (never the GUI thread: forward it).
    When pcscd stops, the monitor reports ``service-lost`` (and the readers and
    cards as gone), drops its context and retries every ``retry_s`` until pcscd
    is back, then reports ``service-back`` and the readers and cards it finds.
    :meth:`stop` returns within about ``poll_s``.
    """

    def __init__(
        self, callback: EventCallback, *, poll_s: float = 0.5, retry_s: float = 0.2
    ) -> None:
        self.callback = callback
        self.poll_s = poll_s
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._ctx: _Context | None = None
        self._thread = threading.Thread(target=self._run, name="pcsc-monitor", daemon=True)
        #: reader name -> whether a card is in it, as last reported.
        self.readers: dict[str, bool] = {}
        self.service_up = False

    def start(self) -> PcscMonitor:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        ctx = self._ctx
        if ctx is not None:
            ctx.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> PcscMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _emit(self, kind: str, reader: str = "", atr: bytes = b"") -> None:
        with contextlib.suppress(Exception):  # a failing callback must not kill the monitor
            self.callback(ReaderEvent(kind, reader, atr))

    def _forget_all(self) -> None:
        for reader, card in sorted(self.readers.items()):
            if card:
                self._emit("card-removed", reader)
            self._emit("reader-removed", reader)
        self.readers.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._ctx = _Context()
            except TransportError:
                if self.service_up:
                    self.service_up = False
                    self._forget_all()
                    self._emit("service-lost")
                self._stop.wait(self.retry_s)
                continue
            try:
                if not self.service_up:
                    self.service_up = True
                    self._emit("service-back")
                self._watch(self._ctx)
            except TransportError:
                pass
            finally:
                ctx, self._ctx = self._ctx, None
                if ctx is not None:
                    ctx.release()
            if not self._stop.is_set() and self.service_up:
                # The context broke: pcscd went away (or restarted); forget what we saw.
                self.service_up = False
                self._forget_all()
                self._emit("service-lost")
                self._stop.wait(self.retry_s)
        self._ctx = None

    def _watch(self, ctx: _Context) -> None:
        """Follow one context until it breaks (pcscd gone) or the monitor stops."""
        sc = _require_pyscard()
        states: dict[str, int] = {}
        counts: dict[str, int] = {}
        pnp_state = sc.SCARD_STATE_UNAWARE
        while not self._stop.is_set():
            names = ctx.readers()
            for gone in [r for r in self.readers if r not in names]:
                if self.readers.pop(gone):
                    self._emit("card-removed", gone)
                self._emit("reader-removed", gone)
                states.pop(gone, None)
                counts.pop(gone, None)
            for new in names:
                if new not in self.readers:
                    self.readers[new] = False
                    states[new] = sc.SCARD_STATE_UNAWARE
                    self._emit("reader-added", new)
            watch = [(r, states[r]) for r in names] + [(PNP_NOTIFICATION, pnp_state)]
            hr, new_states = ctx.status(watch, int(self.poll_s * 1000))
            if hr in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED):
                continue
            if hr != SCARD_S_SUCCESS:
                raise _hr_error(hr, "monitor lost pcscd")
            for reader, event, atr in new_states:
                if reader == PNP_NOTIFICATION:
                    pnp_state = event & ~sc.SCARD_STATE_CHANGED
                    continue
                if reader not in self.readers:
                    continue
                states[reader] = event & ~sc.SCARD_STATE_CHANGED
                if event & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
                    continue  # reader vanishing: the next listing reports it
                present = bool(event & sc.SCARD_STATE_PRESENT)
                # pcsc-lite counts card events in the high word: a card pulled and another
                # tapped between two polls still shows as "present" but with a new count.
                count = event >> 16
                swapped = present and self.readers[reader] and count != counts.get(reader, count)
                counts[reader] = count
                if swapped:
                    self._emit("card-removed", reader)
                    self._emit("card-inserted", reader, atr)
                elif present != self.readers[reader]:
                    self.readers[reader] = present
                    if present:
                        self._emit("card-inserted", reader, atr)
                    else:
                        self._emit("card-removed", reader)
