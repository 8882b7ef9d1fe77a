"""HTTP answers bounded in size and in time, whatever the server does.

httpx's timeouts are per socket operation: a server that drips one byte a second never
trips a 5 s read timeout, and ``Response.read()``/``.json()`` take a body of any size and
inflate a gzip bomb completely. This module gives a call two hard bounds:

* **Time** — :func:`deadline_scope` sets a total deadline (``time.monotonic`` seconds) for
  the calling thread; :class:`DeadlineTransport` is an :class:`httpx.HTTPTransport` whose
  network backend shortens every connect, TLS handshake, read and write to what is left of
  that deadline and refuses to start one once it has passed. So dripped headers, a dripped
  body and an endless stream all end at the deadline, not at the server's pleasure. Outside a
  scope the transport behaves as httpx's own.
* **Size** — :func:`read_body` streams the raw body and decodes ``gzip``/``deflate`` itself
  with ``max_length``, counting *decompressed* bytes, and stops at ``max_bytes``: a bomb is
  refused after at most ``max_bytes`` of output, never inflated. It also checks the deadline
  between chunks (for transports without the backend, such as ``httpx.MockTransport``).

It also holds the transport rules both callers share: :func:`check_url` (``https`` for any
host but loopback, unless a lab switch says otherwise, with a warning) and
:class:`RedactUrls`, the log filter that keeps userinfo and query strings (tokens, password
hashes) out of httpx's request lines.

The exceptions to raise are passed in by the caller, so each layer reports in its own error
hierarchy. A leaf module (standard library, httpx and httpcore only), like
:mod:`kiosk.transport`: the eligibility clients and the HIS outbox both build on it, and the
layer rules let each of them import it and nothing else of the other's.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpcore
import httpx

#: Default cap on one answer's decoded body.
MAX_BODY_BYTES = 1024 * 1024
#: What the clients accept: only encodings :func:`read_body` decodes with a bound.
ACCEPT_ENCODING = "gzip, deflate"

_local = threading.local()
log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(
    url: str, *, allow_insecure_http: bool, what: str, error: Callable[[str], Exception]
) -> None:
    """Refuse (``error``) a URL that is not ``https``, unless its host is loopback or the
    ``allow_insecure_http`` lab switch is on (then warn: personal data would travel in
    clear). ``what`` names the setting in the message; the URL itself is never logged."""
    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host)):
        return
    if parsed.scheme != "http":
        raise error(f"{what} must be an https URL")
    if not allow_insecure_http:
        raise error(
            f"{what} must use https for a host other than this machine "
            "(allow_insecure_http = true is for a lab only)"
        )
    log.warning("%s is plain http to another host: personal data travels in clear (lab only)", what)


def tls_context(
    *,
    ca_bundle: str | None,
    client_cert: str | None,
    client_key: str | None,
    error: Callable[[str], Exception],
) -> ssl.SSLContext:
    """A verifying TLS context: the system trust (or ``ca_bundle`` alone) and, when given, the
    kiosk's client certificate (``client_cert`` PEM, ``client_key`` PEM or inside the cert
    file). A file that does not load is ``error`` naming which setting, never its content."""
    try:
        ctx = ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise error(f"ca_bundle cannot be loaded ({type(exc).__name__})") from None
    if client_cert:
        try:
            ctx.load_cert_chain(client_cert, client_key or None)
        except (OSError, ssl.SSLError) as exc:
            raise error(f"client_cert/client_key cannot be loaded ({type(exc).__name__})") from None
    return ctx


def is_tls_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything in its cause/context chain) is a TLS failure: an
    untrusted or mismatched certificate, a refused handshake. Those are configuration to fix,
    not an unreachable server."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def redact_url(url: httpx.URL) -> httpx.URL:
    """``url`` without userinfo and query string (credentials, tokens, password hashes)."""
    return url.copy_with(userinfo=b"", query=None)


class RedactUrls(logging.Filter):
    """Rewrites httpx's request log lines with :func:`redact_url` applied to each URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def install_log_filter() -> None:
    """Put one :class:`RedactUrls` on the ``httpx`` logger (idempotent, across both copies:
    any ``RedactUrls`` already there counts)."""
    lg = logging.getLogger("httpx")
    if not any(type(f).__name__ == "RedactUrls" for f in lg.filters):
        lg.addFilter(RedactUrls())


@contextlib.contextmanager
def deadline_scope(deadline: float) -> Iterator[None]:
    """Every socket operation of :class:`DeadlineTransport` in this thread ends by
    ``deadline`` (``time.monotonic`` seconds) while the ``with`` block runs."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield
    finally:
        _local.deadline = previous


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    """``timeout`` shortened to the thread's deadline; ``exc`` once the deadline has passed."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("total deadline reached")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation is bounded by the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with connects and streams bounded by the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        inner = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(inner)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport (direct connections, ``verify`` as httpx takes it) with the network
    backend of this module, so :func:`deadline_scope` bounds every socket operation."""

    def __init__(self, verify: Any = True) -> None:
        super().__init__(verify=verify)
        ssl_context = httpx.create_ssl_context(verify=verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,  # httpx's defaults
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )


def read_body(
    resp: httpx.Response,
    *,
    max_bytes: int,
    deadline: float,
    clock: Callable[[], float],
    too_large: Callable[[str], Exception],
    undecodable: Callable[[str], Exception],
    late: Callable[[str], Exception],
) -> bytes:
    """The decoded body of a *streamed* ``resp``, at most ``max_bytes`` of it.

    Raises ``too_large(...)`` as soon as the raw or the decompressed body passes
    ``max_bytes``, ``undecodable(...)`` for an encoding other than identity/gzip/deflate or
    corrupt compressed data, ``late(...)`` when ``clock()`` passes ``deadline`` between
    chunks. Exception texts hold sizes and encodings only, never body content.
    """
    try:
        ready = resp.content  # an in-memory answer (a mock transport's) is already decoded
    except httpx.ResponseNotRead:
        pass
    else:
        if len(ready) > max_bytes:
            raise too_large(f"body over {max_bytes} bytes")
        return ready
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, auto
    else:
        raise undecodable(f"unsupported Content-Encoding {encoding[:20]!r}")
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(f"Content-Length {int(declared)} > {max_bytes}")
    parts: list[bytes] = []
    raw_total = total = 0
    for raw in resp.iter_raw():  # as the network gives it: the deadline is checked per read
        raw_total += len(raw)
        if raw_total > max_bytes:
            raise too_large(f"body over {max_bytes} bytes")
        if inflater is None:
            parts.append(raw)
            total += len(raw)
        else:
            data = raw
            while data:
                try:
                    piece = inflater.decompress(data, max_bytes - total + 1)
                except zlib.error:
                    raise undecodable(f"corrupt {encoding} data") from None
                total += len(piece)
                if total > max_bytes:
                    raise too_large(f"decompressed body over {max_bytes} bytes")
                parts.append(piece)
                data = inflater.unconsumed_tail
        if clock() >= deadline:
            raise late("total deadline reached while reading the body")
    return b"".join(parts)
