"""kiosk.terminal: the check-in flow without a display (``make run`` on a server)."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kiosk.app.settings import Overrides, resolve
from kiosk.eligibility import bhxh
from kiosk.terminal import CLEAR, has_display, run_terminal
from tests.fixtures.gateway import GatewayProcess

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


def _credentials(gw: GatewayProcess) -> dict[str, str]:
    return {
        bhxh.ENV_USERNAME: gw.username,
        bhxh.ENV_PASSWORD: gw.password,
        bhxh.ENV_STAFF_NAME: "Nguyễn Thị Thu Hằng",
        bhxh.ENV_STAFF_CCCD: "001185000123",
    }


def _run(
    gw: GatewayProcess | None,
    tmp_path: Path,
    text: str,
    *,
    config: Path | None = None,
    **kw: object,
) -> str:
    """The terminal kiosk on the embedded default (or ``config``), asking ``gw`` (None: the
    demo's own gateway simulator), with its data in ``tmp_path``."""
    out = io.StringIO()
    overrides = Overrides(gateway_url=gw.url if gw else None, data_dir=tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in (_credentials(gw) if gw else {}).items():
            mp.setenv(k, v)
        code = run_terminal(
            resolve(config, overrides),
            input=io.StringIO(text),
            output=out,
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
    # default, teen, teen again (Enter: the same card keeps its number), elder, Ánh Tuyết
    assert _queue_numbers(text) == [1, 2, 2, 3, 4]
    assert "Bạn đã có số 2 hôm nay / You already have number 2 today" in text
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
    assert _queue_numbers(text) == [1]  # the same patient today: the same number


def test_starts_and_stops_its_own_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo with no gateway configured asks the gateway simulator on loopback, with
    made-up credentials that never reach the screen, and stops it at the end."""
    from kiosk.app.demo import DemoGateway

    started: list[DemoGateway] = []
    real_init = DemoGateway.__init__

    def init(self: DemoGateway) -> None:
        real_init(self)
        started.append(self)

    monkeypatch.setattr(DemoGateway, "__init__", init)
    text = _run(None, tmp_path, "q\n")
    assert "BHXH gateway simulator on 127.0.0.1" in text
    assert "code 000" in text and _queue_numbers(text) == [1]
    (gw,) = started
    url = urlsplit(gw.url)
    assert url.hostname == "127.0.0.1"
    with pytest.raises(OSError), socket.create_connection((url.hostname, url.port or 0), 1):
        pass  # stopped at exit
    assert gw.password not in text and gw.username not in text


def test_bac_only_sample_card_opens_with_its_mrz(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    """Choosing the BAC-only sample card types its MRZ (the CAN cannot open it)."""
    text = _run(clean_gateway, tmp_path, "bac-only\nq\n", first_card=None)
    assert "Võ Minh Khôi" in text and _queue_numbers(text) == [1]


def test_a_real_reader_never_reads_the_simulator(
    monkeypatch: pytest.MonkeyPatch, clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    """A production config (a PC/SC reader) on a machine with no display: the terminal kiosk
    opens that reader and nothing else — no sample cards, no simulated chip, no demo data."""
    import drivers.simulated

    def no_simulator(*args: object, **kwargs: object) -> object:
        raise AssertionError("the simulator was opened")

    monkeypatch.setattr(drivers.simulated, "open_simulated", no_simulator)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[reader]\nname = "pcsc:No Such Reader 00 00"\n[trust]\npaths = []\n', encoding="utf-8"
    )
    text = _run(clean_gateway, tmp_path / "data", "034517\n\nq\n", config=config)
    assert "Sample cards" not in text and "Trần Đức Minh" not in text
    assert "Reader: pcsc:No Such Reader 00 00" in text
    assert "Waiting for the card on pcsc:No Such Reader 00 00" in text
    # pcscd missing or the reader absent: the table's advice for either, never a traceback
    assert ("No card reader found" in text) or ("card reader service is not running" in text)
    assert _queue_numbers(text) == []


@pytest.mark.pcsc
def test_the_terminal_kiosk_follows_a_real_pcsc_reader(
    clean_gateway: GatewayProcess, tmp_path: Path, vpcd_card: object
) -> None:
    """A PC/SC reader through the real pcscd (the card is ``cccd-sim vpcd`` in its own
    process): the patient types the CAN, the kiosk reads that reader and checks them in."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[reader]\nname = "pcsc:Virtual PCD 00 00"\n', encoding="utf-8")
    text = _run(clean_gateway, tmp_path / "data", "034517\nq\n", config=config)
    assert "Sample cards" not in text
    assert "Trần Đức Minh" in text and "BHYT card valid" in text
    assert "Issuer unknown" in text  # a real reader trusts only [trust]: no demo CSCA
    assert _queue_numbers(text) == [1]


def test_a_configured_faulty_sample_card_keeps_its_fault(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    """``[reader] name = "sim:default+clone"``: the terminal reads the clone, as ``read`` does."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[reader]\nname = "sim:default+clone"\n', encoding="utf-8")
    text = _run(clean_gateway, tmp_path / "data", "", config=config)
    assert "Trần Đức Minh" in text
    assert "Active authentication: ✘ KHÔNG đạt / FAILED" in text


DEPARTMENTS = """
[reader]
name = "sim:default"

[[departments]]
code = "NOI"
name_vi = "Khám Nội"
name_en = "Internal medicine"
room = "203"

[[departments]]
code = "NGOAI"
name_vi = "Khám Ngoại"
name_en = "Surgery"
room = "105"
"""


def test_the_terminal_asks_the_department_before_taking_a_number(
    clean_gateway: GatewayProcess, tmp_path: Path
) -> None:
    """Several departments: the terminal lists them after the read and takes the number in
    the one chosen (by number or code); no answer takes no number."""
    config = tmp_path / "kiosk.toml"
    config.write_text(DEPARTMENTS, encoding="utf-8")
    text = _run(clean_gateway, tmp_path / "a", "default\n2\n", config=config, first_card=None)
    assert "Chọn khoa / Choose the department:" in text
    assert "1. Khám Nội / Internal medicine — Phòng / Room 203" in text
    assert "Khám Ngoại — Phòng / Room 105" in text.split("khoa / department>")[-1]
    # the same patient, then by code: another department, its own number; the list shows
    # the number already held in surgery
    again = _run(clean_gateway, tmp_path / "a", "default\nnoi\n", config=config, first_card=None)
    assert "2. Khám Ngoại / Surgery — Phòng / Room 105 (đã có số / has number 1)" in again
    assert "Khám Nội — Phòng / Room 203" in again.split("khoa / department>")[-1]
    none = _run(clean_gateway, tmp_path / "b", "default\n\n", config=config, first_card=None)
    assert "Chưa chọn khoa — chưa lấy số / No department chosen — no number taken" in none
