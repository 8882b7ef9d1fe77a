"""The calling display's HTTP endpoints, on a real server thread on 127.0.0.1 read with httpx:
the page, ``/api/board``, the server-sent event stream, the voice, and the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.display.server import DisplayServer
from kiosk.voice import VoiceUnavailable
from tests.display.conftest import PEOPLE, check_in_everyone, serve

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20.0  # a generous bound for anything to arrive (not a speed assertion)


def _personal_data_absent(text: str) -> None:
    for id_number, name in PEOPLE:
        assert id_number not in text and id_number[-6:] not in text  # the ID, the CAN
        assert name not in text and name.split()[-1] not in text  # the name, the given name


def test_board_lists_departments_numbers_and_rooms(kiosk: Kiosk, display: DisplayServer) -> None:
    check_in_everyone(kiosk, "NOI")
    called = kiosk.call_next("NOI")
    assert called is not None and called.number == 1
    doc: dict[str, Any] = {}
    with httpx.Client(base_url=display.url, timeout=WAIT_S) as client:
        for _ in range(400):  # until the poller has seen the call
            r = client.get("/api/board")
            doc = r.json()
            if doc["departments"][0]["serving"]:
                break
            threading.Event().wait(0.05)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert r.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in r.headers["content-security-policy"]
    noi, nhi = doc["departments"]
    assert (noi["code"], noi["name_vi"], noi["name_en"], noi["room"]) == (
        "NOI",
        "Khoa Nội",
        "Internal medicine",
        "203",
    )
    assert [(c["number"], c["room"], c["desk"]) for c in noi["serving"]] == [(1, "203", "Quầy 1")]
    assert noi["next"] == [2, 3] and noi["waiting"] == 2
    # a configured department with nobody yet is on the board, with its room
    assert (nhi["code"], nhi["room"], nhi["serving"], nhi["next"]) == ("NHI", "105", [], [])
    assert doc["voice"] is False
    _personal_data_absent(r.text)


def test_page_and_assets(display: DisplayServer) -> None:
    with httpx.Client(base_url=display.url, timeout=WAIT_S) as client:
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "Mời bệnh nhân" in page.text and "Now serving" in page.text
        assert "<script>" not in page.text  # nothing inline: the CSP allows 'self' only
        js = client.get("/display.js")
        assert js.status_code == 200 and "EventSource" in js.text
        assert "innerHTML" not in js.text  # the board is rendered as text only
        assert client.get("/display.css").status_code == 200
        assert client.get("/nope").status_code == 404
        assert client.get("/api/announce/1.wav?department=NOI").status_code == 404  # no voice


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The ``board`` events of an open SSE response, parsed."""
    event, data = "", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            if event == "board":
                yield json.loads("\n".join(data))
            event, data = "", []


def test_events_push_each_call(kiosk: Kiosk, display: DisplayServer) -> None:
    check_in_everyone(kiosk, "NOI")
    timeout = httpx.Timeout(WAIT_S)
    with (
        httpx.Client(base_url=display.url, timeout=timeout) as client,
        client.stream("GET", "/events") as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _events(r)
        # the board at once (once the display's poll has seen the check-ins), before any call
        first = next(e for e in events if e["departments"][0]["next"])
        assert first["departments"][0]["serving"] == []
        assert first["departments"][0]["next"] == [1, 2, 3]
        kiosk.call_next("NOI")
        # The first board event that shows a call (a board pushed in between for another
        # change, e.g. under load, is not this call's).
        pushed = next(e for e in events if e["departments"][0]["serving"])
        assert [c["number"] for c in pushed["departments"][0]["serving"]] == [1]
        assert pushed["announcements"][0]["number"] == 1
        assert pushed["version"] != first["version"]
        kiosk.recall(1, "NOI")
        # a recall is a new announcement of the same number
        again = next(
            e for e in events if e["announcements"][0]["seq"] != pushed["announcements"][0]["seq"]
        )
        assert again["announcements"][0]["seq"] > pushed["announcements"][0]["seq"]
        assert again["announcements"][0]["announcements"] == 2


def test_a_new_checkin_reaches_the_board(kiosk: Kiosk, display: DisplayServer) -> None:
    with (
        httpx.Client(base_url=display.url, timeout=httpx.Timeout(WAIT_S)) as client,
        client.stream("GET", "/events") as r,
    ):
        events = _events(r)
        assert next(events)["departments"][1]["next"] == []
        kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2), department="NHI")
        assert next(e for e in events if e["departments"][1]["next"])["departments"][1]["next"] == [
            1
        ]


class FakeVoiceMissing:
    """A voice whose engine is not installed (what a machine without espeak-ng gives)."""

    def wav(self, text: str) -> bytes:
        raise VoiceUnavailable("espeak-ng is not installed")


class RecordingVoice:
    """A voice that records what it was asked to say (the real one is tested in test_voice)."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def wav(self, text: str) -> bytes:
        self.said.append(text)
        return b"RIFF\x00\x00\x00\x00WAVE"


def _wait_serving(client: httpx.Client, code: str) -> None:
    for _ in range(400):
        doc = client.get("/api/board").json()
        if any(d["code"] == code and d["serving"] for d in doc["departments"]):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the call never reached the board")


def test_announcement_speaks_only_a_number_being_served(kiosk: Kiosk, display_kiosk: Kiosk) -> None:
    check_in_everyone(kiosk, "NOI")
    voice = RecordingVoice()
    server = serve(display_kiosk, voice)
    try:
        kiosk.call_next("NOI")
        with httpx.Client(base_url=server.url, timeout=WAIT_S) as client:
            _wait_serving(client, "NOI")
            assert client.get("/api/board").json()["voice"] is True
            r = client.get("/api/announce/1.wav?department=noi")
            assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
            assert voice.said == ["Mời số 1 đến phòng 203"]
            client.get("/api/announce/1.wav?department=NOI")
            assert voice.said == ["Mời số 1 đến phòng 203"]  # spoken once, then cached
            # not being served (waiting, another department, nonsense): nothing is spoken
            assert client.get("/api/announce/2.wav?department=NOI").status_code == 404
            assert client.get("/api/announce/1.wav?department=NHI").status_code == 404
            assert client.get("/api/announce/x.wav").status_code == 404
            assert voice.said == ["Mời số 1 đến phòng 203"]
    finally:
        server.stop()


def test_a_missing_voice_is_503_and_the_board_goes_on(kiosk: Kiosk, display_kiosk: Kiosk) -> None:
    check_in_everyone(kiosk, "NOI")
    server = serve(display_kiosk, FakeVoiceMissing())
    try:
        kiosk.call_next("NOI")
        with httpx.Client(base_url=server.url, timeout=WAIT_S) as client:
            _wait_serving(client, "NOI")
            r = client.get("/api/announce/1.wav?department=NOI")
            assert r.status_code == 503 and r.json() == {"error": "VoiceUnavailable"}
    finally:
        server.stop()


def test_stop_ends_open_streams(display: DisplayServer) -> None:
    """Stopping the server closes the TVs' streams instead of hanging on them."""
    got: list[str] = []

    def watch() -> None:
        with (
            httpx.Client(base_url=display.url, timeout=WAIT_S) as client,
            client.stream("GET", "/events") as r,
        ):
            got.extend(r.iter_lines())

    t = threading.Thread(target=watch)
    t.start()
    for _ in range(400):
        if any(line.startswith("event:") for line in got):
            break
        threading.Event().wait(0.05)
    display.stop()
    t.join(timeout=WAIT_S)
    assert not t.is_alive()
    assert "event: board" in got


def test_the_command_serves_on_loopback(config_path: Path, tmp_path: Path, kiosk: Kiosk) -> None:
    """`cccd-kiosk display --port 0` in its own process: prints its address, serves the
    board of the data folder the desks use, and stops cleanly on SIGTERM."""
    check_in_everyone(kiosk, "NHI")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "display",
            "--config",
            str(config_path),
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/) \(loopback only", line)
        assert m, line
        kiosk.call_next("NHI")
        with httpx.Client(base_url=m.group(1), timeout=WAIT_S) as client:
            _wait_serving(client, "NHI")
            nhi = client.get("/api/board").json()["departments"][1]
            assert nhi["serving"][0]["number"] == 1 and nhi["room"] == "105"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("port", ["70000"])
def test_a_bad_port_in_the_config_is_named(tmp_path: Path, port: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[display]\nport = {port}\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "display", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert out.returncode == 2 and "display.port" in out.stderr


def test_a_clinic_without_departments_shows_its_one_queue(tmp_path: Path) -> None:
    from kiosk.app.settings import Overrides, resolve

    settings = resolve(None, Overrides(data_dir=tmp_path / "data"))
    with Kiosk(settings, demo_gateway=False) as k:
        empty = k.board()
        assert [(d["code"], d["name_vi"], d["name_en"]) for d in empty["departments"]] == [
            ("", "Phòng khám", "Clinic")
        ]
        k.checkin_manual(*PEOPLE[0], date(1990, 1, 2))
        called = k.call_next()
        assert called is not None and (called.department, called.number) == ("", 1)
        (one,) = k.board()["departments"]
        assert [c["number"] for c in one["serving"]] == [1]
        assert k.today()[0]["call"] == "called"


def test_the_bind_address_is_honoured(display_kiosk: Kiosk) -> None:
    """A configured address is the one listened on (127.0.0.2 stands in for a LAN address:
    still this machine), and nothing answers on another address at that port."""
    server = DisplayServer(display_kiosk, host="127.0.0.2", port=0).start()
    try:
        host, port = server.address
        assert host == "127.0.0.2" and server.url == f"http://127.0.0.2:{port}/"
        assert httpx.get(server.url + "api/board", timeout=WAIT_S).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/api/board", timeout=WAIT_S)
    finally:
        server.stop()


def test_a_server_never_started_stops_at_once(display_kiosk: Kiosk) -> None:
    server = DisplayServer(display_kiosk, port=0)
    t = threading.Thread(target=server.stop)
    t.start()
    t.join(timeout=WAIT_S)
    assert not t.is_alive()  # shutdown() would wait forever for a loop never started
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=WAIT_S)
