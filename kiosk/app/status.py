"""The opt-in status endpoint: ``/metrics`` (Prometheus text) and ``/health`` (JSON).

Started by the Qt kiosk and the terminal kiosk when ``[status] port`` is set
(:func:`start_status_server`). It is the standard library's ``ThreadingHTTPServer`` on a daemon
thread — two read-only pages need no web framework, and a scrape never touches the GUI thread.
Every request needs ``Authorization: Bearer <token>`` (compared in constant time); without it
the answer is 401 and nothing else. Loopback unless ``[status] bind`` says otherwise. The pages
hold counts and states only (:mod:`kiosk.app.metrics`): no personal data.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from kiosk.app.metrics import KioskMetrics
from kiosk.config import STATUS_ENV_TOKEN, ConfigValueError, StatusConfig

log = logging.getLogger(__name__)


def status_token(config: StatusConfig) -> str:
    """The bearer token: ``$CCCD_KIOSK_STATUS_TOKEN``, else ``[status] token``; none is a
    configuration error (an open endpoint is never the default)."""
    token = os.environ.get(STATUS_ENV_TOKEN) or config.token
    if not token:
        raise ConfigValueError(
            f"the status endpoint needs a token: set ${STATUS_ENV_TOKEN} or [status] token",
            key="status.token",
        )
    return token


@dataclass
class StatusServer:
    """A running endpoint; :meth:`stop` shuts it down."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = str(host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5.0)


def _handler(metrics: KioskMetrics, token: str) -> type[BaseHTTPRequestHandler]:
    expected = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "cccd-kiosk-status"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            log.debug("status: %s %s", self.command, self.path.split("?", 1)[0])

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if code == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="cccd-kiosk"')
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            given = self.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                self._send(401, b"unauthorized\n", "text/plain; charset=utf-8")
                return
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.scrape(), CONTENT_TYPE_LATEST)
            elif path == "/health":
                body = json.dumps(metrics.health(), ensure_ascii=False).encode()
                self._send(200, body, "application/json")
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

    return Handler


def start_status_server(
    metrics: KioskMetrics, config: StatusConfig, *, port: int | None = None
) -> StatusServer | None:
    """Serve ``metrics`` as ``config`` says (None: ``[status] port`` is not set). ``port``
    overrides the configured one (0: any free port, for tests)."""
    chosen = config.port if port is None else port
    if chosen is None:
        return None
    token = status_token(config)
    server = ThreadingHTTPServer((config.bind, chosen), _handler(metrics, token))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="status-server", daemon=True)
    thread.start()
    running = StatusServer(server, thread)
    log.info("status endpoint on %s (/metrics, /health)", running.url)
    return running


__all__ = ["StatusServer", "start_status_server", "status_token"]
