"""The calling display's HTTP server: the page, ``/api/board``, ``/events`` and the voice.

Why the standard library's :class:`~http.server.ThreadingHTTPServer`: the display serves one
page, one small JSON document and a handful of long-lived event streams (a few TVs) on a
hospital LAN; server-sent events are plain chunks on an open response, so a framework (or an
ASGI server and its dependencies on every desk PC) buys nothing here. Each client gets its
own thread; one poller thread is the only one that reads the board from storage.

* ``GET /`` (+ ``/display.css``, ``/display.js``): the page (:mod:`kiosk.display.page`).
* ``GET /api/board``: the current board document (numbers, departments, rooms — no
  personal data; :func:`kiosk.app.calling.board_document`).
* ``GET /events``: ``text/event-stream``; an ``event: board`` with the document at once and
  after every change, a comment line every 15 s to keep proxies from closing it.
* ``GET /api/announce/<n>.wav?department=CODE``: "Mời số N đến phòng R" spoken by the voice
  (404 when voice is off or N is not being served there; 503 when no voice is installed).

The poller asks :meth:`BoardSource.board_version` every ``poll_s`` (0.2 s) and rebuilds the
board only when it changed (and every 30 s, for the day change), so a call reaches the TV
well within a second. Responses carry a strict Content-Security-Policy and ``no-store``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from kiosk.app.calling import announcement_text
from kiosk.display import page
from kiosk.voice import Voice, VoiceError

log = logging.getLogger(__name__)

#: Seconds between two version polls (a call shows on the TV within about this).
POLL_S = 0.2
#: The board is rebuilt at least this often, whatever the version (the day changes).
REFRESH_S = 30.0
#: A comment line is sent on an idle event stream this often.
KEEPALIVE_S = 15.0
#: At most this many open event streams (TVs); more get 503.
MAX_STREAMS = 32
#: Spoken announcements kept ready (WAV bytes), by sentence.
VOICE_CACHE = 32

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "media-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_ANNOUNCE = re.compile(r"/api/announce/(\d{1,4})\.wav")


class BoardSource(Protocol):
    """Where the board comes from (:class:`kiosk.app.kiosk.Kiosk` is one)."""

    def board(self) -> dict[str, Any]:
        """The current board document."""
        ...

    def board_version(self) -> str:
        """A token that changes whenever :meth:`board` could have changed."""
        ...


class _Hub:
    """The latest board document and a generation counter the streams wait on."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.generation = 0
        self.doc: dict[str, Any] | None = None
        self.body = b""
        self.stopping = False

    def publish(self, doc: dict[str, Any]) -> None:
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self.cond:
            if body == self.body:
                return
            self.doc, self.body = doc, body
            self.generation += 1
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


class DisplayServer:
    """The display on ``host``:``port`` (0: any free port) over ``source``; ``voice`` speaks
    announcements when the board says voice is on. :meth:`start`, then :meth:`stop`."""

    def __init__(
        self,
        source: BoardSource,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        voice: Voice | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.source = source
        self.voice = voice
        self.poll_s = poll_s
        self.hub = _Hub()
        self._streams = threading.BoundedSemaphore(MAX_STREAMS)
        self._voice_cache: OrderedDict[str, bytes] = OrderedDict()
        self._voice_lock = threading.Lock()
        self.board_problem: str | None = None
        handler = _make_handler(self)
        server_cls = _V6Server if ":" in host else ThreadingHTTPServer
        self.httpd = server_cls((host, port), handler)
        self.httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port."""
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """The page's address (for a loopback or a named bind address)."""
        host, port = self.address
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def start(self) -> DisplayServer:
        """Read the board once (so the first client gets it), then poll and serve in threads."""
        self._refresh()
        for target, name in ((self._poll, "display-poll"), (self.httpd.serve_forever, "display")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def serve_forever(self) -> None:
        """Serve until interrupted (the command line)."""
        self.start()
        try:
            while all(t.is_alive() for t in self._threads):
                self._threads[0].join(timeout=1.0)
        finally:
            self.stop()

    def stop(self) -> None:
        """Close the streams, stop serving and close the socket."""
        self.hub.stop()
        if self._threads:  # shutdown() waits for serve_forever: only once it was started
            self.httpd.shutdown()
        self.httpd.server_close()
        for t in self._threads:
            t.join(timeout=5.0)

    def __enter__(self) -> DisplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the board ---------------------------------------------------------------------

    def _refresh(self) -> str | None:
        try:
            version = self.source.board_version()
            # the page offers sound only when this server has a voice to speak with
            self.hub.publish({**self.source.board(), "voice": self.voice is not None})
        except Exception as exc:  # storage busy or gone: keep showing the last board
            if self.board_problem != type(exc).__name__:
                log.warning("display: board not read (%s)", type(exc).__name__)
            self.board_problem = type(exc).__name__
            return None
        self.board_problem = None
        return version

    def _poll(self) -> None:
        seen = self.source_version_or_none()
        refreshed = time.monotonic()
        while not self.hub.stopping:
            with self.hub.cond:
                self.hub.cond.wait(self.poll_s)
            if self.hub.stopping:
                return
            now = self.source_version_or_none()
            if now != seen or now is None or time.monotonic() - refreshed >= REFRESH_S:
                seen = self._refresh()
                refreshed = time.monotonic()

    def source_version_or_none(self) -> str | None:
        """The source's version, or None when it cannot be read now."""
        try:
            return self.source.board_version()
        except Exception:
            return None

    # ---- the voice ---------------------------------------------------------------------

    def announcement(self, number: int, department: str) -> bytes | None:
        """The WAV of "Mời số N đến phòng R" when N is being served in ``department`` and
        voice is on; None otherwise. Raises :class:`VoiceError` when the voice fails."""
        doc = self.hub.doc
        if doc is None or not doc.get("voice") or self.voice is None:
            return None
        for d in doc["departments"]:
            if d["code"] != department.upper():
                continue
            for c in d["serving"]:
                if c["number"] == number:
                    return self._speak(announcement_text(number, c["room"] or d["room"]))
        return None

    def _speak(self, text: str) -> bytes:
        with self._voice_lock:
            if text in self._voice_cache:
                self._voice_cache.move_to_end(text)
                return self._voice_cache[text]
        assert self.voice is not None
        wav = self.voice.wav(text)
        with self._voice_lock:
            self._voice_cache[text] = wav
            while len(self._voice_cache) > VOICE_CACHE:
                self._voice_cache.popitem(last=False)
        return wav


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _make_handler(display: DisplayServer) -> Callable[..., BaseHTTPRequestHandler]:
    hub = display.hub

    class Handler(BaseHTTPRequestHandler):
        server_version = "cccd-display"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("display: %s", format % args)

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self._common_headers()
            self.end_headers()
            self.wfile.write(body)

        def _common_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", _CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")

        def _error(self, status: HTTPStatus, why: str) -> None:
            body = json.dumps({"error": why}).encode()
            self._send(status, body, "application/json")

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(200, page.HTML.encode("utf-8"), "text/html; charset=utf-8")
            elif path == "/display.css":
                self._send(200, page.CSS.encode("utf-8"), "text/css; charset=utf-8")
            elif path == "/display.js":
                self._send(200, page.JS.encode("utf-8"), "text/javascript; charset=utf-8")
            elif path == "/api/board":
                if hub.doc is None:
                    self._error(HTTPStatus.SERVICE_UNAVAILABLE, "board not available yet")
                else:
                    self._send(200, hub.body, "application/json; charset=utf-8")
            elif path == "/favicon.ico":  # browsers ask; nothing to show
                self.send_response(HTTPStatus.NO_CONTENT)
                self._common_headers()
                self.end_headers()
            elif path == "/events":
                self._events()
            elif m := _ANNOUNCE.fullmatch(path):
                self._announce(int(m.group(1)))
            else:
                self._error(HTTPStatus.NOT_FOUND, "no such page")

        def _announce(self, number: int) -> None:
            query = parse_qs(urlsplit(self.path).query)
            department = (query.get("department") or [""])[0]
            try:
                wav = display.announcement(number, department)
            except VoiceError as exc:
                log.warning("display: announcement not spoken (%s)", type(exc).__name__)
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, type(exc).__name__)
                return
            if wav is None:
                self._error(HTTPStatus.NOT_FOUND, "no such call, or voice is off")
            else:
                self._send(200, wav, "audio/wav")

        def _events(self) -> None:
            if not display._streams.acquire(blocking=False):
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, "too many displays connected")
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self._common_headers()
                self.end_headers()
                self.wfile.write(b"retry: 1000\n\n")
                self.wfile.flush()
                sent = 0  # generation 0: nothing published yet
                while True:
                    with hub.cond:
                        last = sent
                        hub.cond.wait_for(
                            lambda: hub.stopping or hub.generation != last,  # noqa: B023
                            KEEPALIVE_S,
                        )
                        if hub.stopping:
                            return
                        generation, body = hub.generation, hub.body
                    if generation != sent and body:
                        self.wfile.write(b"id: %d\nevent: board\ndata: %s\n\n" % (generation, body))
                        sent = generation
                    else:
                        self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                return  # the TV went away
            finally:
                display._streams.release()
                self.close_connection = True

    return Handler
