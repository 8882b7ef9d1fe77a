"""kiosk.terminal: the check-in flow without a display (``make run`` on a server)."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kiosk.config import Config
from kiosk.eligibility import bhxh
from kiosk.terminal import CLEAR, GatewayAccess, has_display, run_terminal
from tests.gateway import GatewayProcess

TEEN_QR = (
    "079212004562||Phạm Gia Bảo|18032012|Nam|Số 27 Đường Nguyễn Trãi, TP. Hồ Chí Minh|02042026"
)


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": ""}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux", False),
        ({}, "darwin", True),
        ({}, "win32", True),
    ],
)
def test_has_display(env: dict[str, str], platform: str, expected: bool) -> None:
    assert has_display(env, platform) is expected


def _access(gw: GatewayProcess) -> GatewayAccess:
    return GatewayAccess(
        gw.url,
        {
            bhxh.ENV_USERNAME: gw.username,
            bhxh.ENV_PASSWORD: gw.password,
            bhxh.ENV_STAFF_NAME: "Nguyễn Thị Thu Hằng",
            bhxh.ENV_STAFF_CCCD: "001185000123",
        },
    )


def _run(gw: GatewayProcess | None, tmp_path: Path, text: str, **kw: object) -> str:
    out = io.StringIO()
    code = run_terminal(
        Config(),
        input=io.StringIO(text),
        output=out,
        data_dir=tmp_path,
        gateway=_access(gw) if gw is not None else None,
        **kw,  # type: ignore[arg-type]
    )
    assert code == 0
    return out.getvalue()


def _queue_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"Queue number: (\d+)", text)]


def test_end_of_input_checks_in_the_default_card_once(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    text = _run(clean_gateway, tmp_path, "")
    assert text.startswith("Không có màn hình")
    assert "No display: using the terminal mode" in text
    assert "Trần Đức Minh" in text
    assert "BHYT card valid" in text and "code 000" in text
    assert "Verified" in text  # the passive-authentication verdict
    assert "Card valid." in text  # the advice
    assert _queue_numbers(text) == [1]
    assert text.rstrip().endswith("Goodbye")
    assert CLEAR not in text  # StringIO is not a terminal: no wipe by default


def test_choices_by_number_name_enter_and_id_increment_the_queue(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    text = _run(clean_gateway, tmp_path, "8\n\nelder\n046196008821\nq\n", wipe=True)
    assert _queue_numbers(text) == [1, 2, 3, 4, 5]
    assert text.count("Phạm Gia Bảo") >= 2  # teen by number, then Enter = the same card
    assert "Lê Thị Hoa" in text and "Nguyễn Thị Ánh Tuyết" in text
    # Wiped before each of the 4 choices and on quit, and nothing after the goodbye.
    assert text.count(CLEAR) == 5
    assert text.rsplit(CLEAR, 1)[1].strip() == "Tạm biệt / Goodbye"


def test_the_wipe_removes_the_previous_patient(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    text = _run(clean_gateway, tmp_path, "teen\n", wipe=True)
    _, after = text.split(CLEAR, 1)
    assert "001088034517" in text.split(CLEAR)[0]
    assert "001088034517" not in after  # the default holder's ID is gone after the wipe


def test_cccd_qr_text_reads_that_card(clean_gateway: GatewayProcess, tmp_path: Path) -> None:
    text = _run(clean_gateway, tmp_path, TEEN_QR + "\nq\n", first_card=None)
    assert "Phạm Gia Bảo" in text and "Verified" in text
    assert _queue_numbers(text) == [1]


def test_wrong_id_says_what_to_do_without_echoing_it(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    text = _run(clean_gateway, tmp_path, "001088999999\nnonsense\nq\n", first_card=None)
    assert "Kiểm tra 6 số cuối của số CCCD" in text
    assert "Check the last 6 digits of the ID number" in text
    assert "999999" not in text.replace("001088999999\n", "")
    assert "Choice not understood" in text
    assert _queue_numbers(text) == []


def test_gateway_down_answers_from_the_cache(clean_gateway: GatewayProcess, tmp_path: Path) -> None:
    _run(clean_gateway, tmp_path, "")  # fills the cache
    clean_gateway.stop()
    try:
        text = _run(clean_gateway, tmp_path, "")
    finally:
        clean_gateway.start()
    assert "saved answer" in text
    assert _queue_numbers(text) == [2]


def test_starts_and_stops_its_own_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from simulators.gateway.process import GatewayProcess as Launcher

    started: list[Launcher] = []
    real_start = Launcher.start

    def start(self: Launcher, timeout: float = 15.0) -> None:
        started.append(self)
        real_start(self, timeout)

    monkeypatch.setattr(Launcher, "start", start)
    text = _run(None, tmp_path, "q\n")
    assert "Starting the BHXH gateway simulator" in text
    assert "code 000" in text and _queue_numbers(text) == [1]
    (gw,) = started
    assert gw.proc is None  # stopped at exit
    url = urlsplit(gw.url)
    assert url.hostname == "127.0.0.1"
    with pytest.raises(OSError), socket.create_connection((url.hostname, url.port or 0), 1):
        pass
    assert gw.password not in text and gw.username not in text
