"""kiosk.bounded_http: read_body caps decompressed bytes and the deadline."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk import bounded_http
from offline_cache.his_errors import HisAnswerTooLarge, HisAnswerUndecodable, HisDeadlineExceeded

ROOT = Path(__file__).resolve().parents[2]


class _Chunks(httpx.SyncByteStream):
    """A streamed (not yet read) body in the given chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Any:
        yield from self.chunks


def _read(
    chunks: list[bytes],
    *,
    max_bytes: int = 1000,
    clock: Any = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    resp = httpx.Response(200, headers=headers or {}, stream=_Chunks(chunks))
    return bounded_http.read_body(
        resp,
        max_bytes=max_bytes,
        deadline=10.0,
        clock=clock or (lambda: 0.0),
        too_large=HisAnswerTooLarge,
        undecodable=HisAnswerUndecodable,
        late=HisDeadlineExceeded,
    )


def test_identity_gzip_and_deflate_within_the_cap() -> None:
    assert _read([b"ab", b"cd"]) == b"abcd"
    gz = gzip.compress(b"x" * 1000)
    assert _read([gz[:10], gz[10:]], headers={"Content-Encoding": "gzip"}) == b"x" * 1000
    assert _read([zlib.compress(b"y" * 999)], headers={"Content-Encoding": "deflate"}) == b"y" * 999


def test_a_bomb_is_refused_after_the_cap_not_inflated() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire
    with pytest.raises(HisAnswerTooLarge):
        _read([bomb], max_bytes=1000, headers={"Content-Encoding": "gzip"})


def test_raw_size_declared_size_and_encodings() -> None:
    with pytest.raises(HisAnswerTooLarge):
        _read([b"a" * 600, b"a" * 600])
    with pytest.raises(HisAnswerTooLarge):
        _read([b""], headers={"Content-Length": "5000"})
    with pytest.raises(HisAnswerUndecodable):
        _read([b"x"], headers={"Content-Encoding": "br"})
    with pytest.raises(HisAnswerUndecodable):
        _read([b"not gzip at all"], headers={"Content-Encoding": "gzip"})


def test_the_deadline_is_checked_between_chunks() -> None:
    t = iter([5.0, 11.0, 12.0])
    with pytest.raises(HisDeadlineExceeded):
        _read([b"a", b"b", b"c"], clock=lambda: next(t))


def test_the_deadline_scope_nests_to_the_earliest() -> None:
    with bounded_http.deadline_scope(100.0), bounded_http.deadline_scope(50.0):
        assert bounded_http._local.deadline == 50.0
        with bounded_http.deadline_scope(70.0):
            assert bounded_http._local.deadline == 50.0
    assert getattr(bounded_http._local, "deadline", None) is None
