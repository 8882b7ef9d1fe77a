"""One configuration file drives every front-end to the same reader, trust and storage.

The same ``kiosk.toml`` — a sample card on the simulated reader, a trust store of real CSCAs
(the German master list, which does not hold the simulator's test CSCA), a data folder, the
gateway simulator process — is given to ``cccd-kiosk checkin``, to the terminal kiosk and to
the Qt kiosk in turn. Each reads the same card, none trusts the test CSCA (the demo default
would), and all three use the one journal: the patient checked in by the first keeps
number 1 on the other two.

A ``[trust]`` path that does not exist gives one line naming ``[trust] paths`` in that file
(never a flag the user did not type, never a traceback) on every front-end, exit 2.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kiosk import cli
from kiosk.app.settings import resolve
from kiosk.terminal import run_terminal
from tests import DATA, ROOT
from tests.fixtures.gateway import GatewayProcess, set_kiosk_credentials

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CARD = "anh-tuyet"
NAME = "Nguyễn Thị Ánh Tuyết"
CAN = "008821"
MASTER_LIST = DATA / "masterlists" / "DE_ML_2026-05-28.ml"
#: Generous bound for a check-in in the Qt kiosk; never asserted as a duration.
WAIT_MS = 60_000


@pytest.fixture
def config(tmp_path: Path, clean_gateway: GatewayProcess, monkeypatch: pytest.MonkeyPatch) -> Path:
    set_kiosk_credentials(monkeypatch, clean_gateway)
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[reader]\nname = "sim:{CARD}"\n'
        f'[trust]\npaths = ["{MASTER_LIST}"]\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[gateway]\nurl = "{clean_gateway.url}"\ntimeout_s = 15\nconnect_timeout_s = 5\n',
        encoding="utf-8",
    )
    return path


def _journal_names(config: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str]]:
    from offline_cache.export import today

    day = today().isoformat()
    capsys.readouterr()
    assert cli.main(["export", "--config", str(config), "--date", day, "--format", "json"]) == 0
    return [(r["queue_number"], r["full_name"]) for r in json.loads(capsys.readouterr().out)]


def test_one_config_drives_the_cli_the_terminal_and_the_qt_kiosk(
    config: Path, qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1. the command line
    assert cli.main(["checkin", "--config", str(config), "--can", CAN, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["holder"]["full_name"] == NAME
    assert doc["passive_auth"]["verdict"] == "issuer_unknown"  # [trust], not the demo CSCA
    assert doc["eligibility"]["status"] == "eligible" and doc["queue_number"] == 1

    # 2. the terminal kiosk: the configured card first, the configured trust and storage
    text = io.StringIO()
    assert run_terminal(resolve(config), input=io.StringIO(""), output=text) == 0
    shown = text.getvalue()
    # the same journal: the patient checked in a moment ago keeps number 1
    assert NAME in shown and "Issuer unknown" in shown and "Queue number: 1" in shown
    assert "You already have number 1 today" in shown
    assert "BHXH gateway simulator" not in shown  # [gateway] url is used

    # 3. the Qt kiosk
    from ui.app import build_window

    window, gateway = build_window(resolve(config), idle_timeout_s=3600)
    assert gateway is None
    qtbot.addWidget(window)
    try:
        assert window.kiosk.reader == f"sim:{CARD}"
        assert window.kiosk.data_dir == tmp_path / "data" / "demo"  # the demo keeps apart
        assert window.tester is not None and window.tester.card_box.currentText() == CARD
        window.tester.tap()
        qtbot.waitUntil(lambda: window.state.screen == "result", timeout=WAIT_MS)
        assert window.state.view().badge_kind == "issuer_unknown"
        assert window.result.queue.text().startswith("Bạn đã có số 1 hôm nay")
    finally:
        window.close()

    assert _journal_names(config, capsys) == [(1, NAME)]  # one patient, one place, one journal


@pytest.fixture
def bad_trust(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text('[trust]\npaths = ["/nonexistent/csca.pem"]\n', encoding="utf-8")
    return path


def _one_line(proc: subprocess.CompletedProcess[str], config: Path) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"[trust] paths in {config}: /nonexistent/csca.pem: no such file or folder" in lines[0]
    assert "--trust" not in lines[0]


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.pop("QT_QPA_PLATFORM", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_trust_path_is_one_line_on_every_front_end(bad_trust: Path) -> None:
    # the command line
    _one_line(
        _run(["-m", "kiosk.cli", "checkin", "--config", str(bad_trust), "--can", CAN]), bad_trust
    )
    _one_line(
        _run(["-m", "kiosk.cli", "read", "--config", str(bad_trust), "--can", CAN]), bad_trust
    )
    # the terminal kiosk (no display)
    _one_line(_run(["-m", "ui.launch", "--config", str(bad_trust)]), bad_trust)
    # the Qt kiosk (offscreen) — started directly and through the installed command's launcher
    _one_line(
        _run(["-m", "ui.app", "--config", str(bad_trust)], QT_QPA_PLATFORM="offscreen"), bad_trust
    )
    _one_line(
        _run(["-m", "ui.launch", "--config", str(bad_trust)], QT_QPA_PLATFORM="offscreen"),
        bad_trust,
    )


def test_the_demo_on_a_real_kiosks_config_touches_none_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--reader sim:default`` over a production file (a PC/SC reader, a data folder, a
    gateway, a HIS): the made-up citizen goes to the demo's own folder, is asked of the demo's
    own gateway, and nothing reaches the hospital's HIS."""
    from tests.fixtures.his_receiver import HisReceiver

    with HisReceiver() as his:
        prod = tmp_path / "prod.toml"
        prod.write_text(
            '[reader]\nname = "pcsc"\n'
            f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
            '[gateway]\nurl = "http://127.0.0.1:9/nothing-listens-here"\n'
            f'[his]\nurl = "{his.url}"\n',
            encoding="utf-8",
        )
        argv = ["checkin", "--config", str(prod), "--reader", "sim:default", "--can", "034517"]
        assert cli.main([*argv, "--json", "--link-kbps", "0"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["eligibility"]["status"] == "eligible"  # the demo gateway answered, live
        assert doc["eligibility"]["source"] == "live"
        assert (tmp_path / "data" / "demo" / "journal.db").exists()
        assert not (tmp_path / "data" / "journal.db").exists()  # the real journal: untouched
        assert his.stats()["requests"] == 0
        from kiosk.app.errors import UsageError
        from kiosk.app.kiosk import Kiosk
        from kiosk.app.settings import Overrides

        demo = Kiosk(resolve(prod, Overrides(reader="sim:default")))
        with demo, pytest.raises(UsageError, match="sends nothing to its HIS"):
            demo.drain_outbox()
        assert his.stats()["requests"] == 0
