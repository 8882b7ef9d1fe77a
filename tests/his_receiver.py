"""A tiny HIS stand-in for tests and the outbox bench (standard library only).

Accepts ``POST`` JSON at any path and dedupes by the ``Idempotency-Key`` header: the first
request with a key is stored (201); a repeat gets 409 echoing the key (the outbox takes that
as "already delivered"). It counts what it saw. Faults for tests: ``lose_replies`` (store the
check-in, then drop the connection without answering — a 2xx lost on the way back) and
``fail_next`` (answer the next requests with an error status without storing them).

In-process: ``with HisReceiver() as his: ... his.url ...``. As its own process (the bench):
``python -m tests.his_receiver [--port N]`` prints ``PORT <n>`` and serves until killed;
``GET /stats`` returns the counters as JSON. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HisReceiver:
    """A receiving server on 127.0.0.1 (port 0 = any free port), in a background thread."""

    def __init__(self, port: int = 0, *, keep_bodies: bool = True) -> None:
        self.lock = threading.Lock()
        self.accepted: dict[str, int] = {}  # key -> times stored (must stay 1)
        self.bodies: dict[str, Any] = {}
        self.requests = 0
        self.duplicates = 0
        self.lose_replies = 0
        self.fail_next: list[int] = []
        self.keep_bodies = keep_bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to POST check-ins."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/checkins"

    def stats(self) -> dict[str, int]:
        """Counters: requests seen, distinct keys stored, repeats answered 409."""
        with self.lock:
            return {
                "requests": self.requests,
                "unique": len(self.accepted),
                "duplicates": self.duplicates,
                "max_per_key": max(self.accepted.values(), default=0),
            }

    def start(self) -> HisReceiver:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HisReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(his: HisReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the outbox reuses one connection
        disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms ACK wait

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: request lines are not personal, but tests want quiet output."""

        def _reply(self, status: int, body: dict[str, Any], key: str | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if key:
                self.send_header("Idempotency-Key", key)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/stats":
                self._reply(200, dict(his.stats()))
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            key = self.headers.get("Idempotency-Key")
            with his.lock:
                his.requests += 1
                fail = his.fail_next.pop(0) if his.fail_next else None
            if fail is not None:
                self._reply(fail, {"error": "injected fault"})
                return
            if not key:
                self._reply(400, {"error": "Idempotency-Key required"})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._reply(400, {"error": "not JSON"})
                return
            with his.lock:
                if key in his.accepted:
                    his.duplicates += 1
                    duplicate = True
                else:
                    his.accepted[key] = 1
                    if his.keep_bodies:
                        his.bodies[key] = body
                    duplicate = False
                lose = not duplicate and his.lose_replies > 0
                if lose:
                    his.lose_replies -= 1
            if lose:  # stored, but the answer never reaches the kiosk
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if duplicate:
                self._reply(409, {"idempotency_key": key, "status": "duplicate"}, key)
            else:
                self._reply(201, {"idempotency_key": key, "status": "created"}, key)

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Serve until killed; print ``PORT <n>`` once listening (for a parent process)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    his = HisReceiver(args.port, keep_bodies=False)
    print(f"PORT {his.server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        his.server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
