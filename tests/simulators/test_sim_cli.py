"""``cccd-sim``: the ``cards`` listing (text and JSON) and argument errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk.cccd.mrz import id_number_of
from kiosk.emrtd.mrz import parse_td1
from simulators.card.profile import list_profiles
from simulators.cli import main


def test_cards_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cards", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert isinstance(cards, list)
    assert [c["name"] for c in cards] == list_profiles()
    assert len(cards) >= 6
    for card in cards:
        assert set(card) == {"name", "id_number", "can", "mrz"}
        assert len(card["id_number"]) == 12 and card["id_number"].isdigit()
        assert card["can"] == card["id_number"][-6:]
        lines = card["mrz"].split("\n")
        assert len(lines) == 3 and all(len(line) == 30 for line in lines)
        td1 = parse_td1(card["mrz"])  # strict: every check digit right
        assert id_number_of(td1) == card["id_number"]
        assert td1.document_number == card["id_number"][-9:]


def test_cards_json_default_entry(capsys: pytest.CaptureFixture[str]) -> None:
    main(["cards", "--json"])
    default = json.loads(capsys.readouterr().out)[0]
    assert default["name"] == "default"
    assert default["can"] == "034517"
    assert default["mrz"].split("\n")[0] == "IDVNM0880345170001088034517<<1"


def test_cards_text_lists_names_and_cans(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cards"]) == 0
    out = capsys.readouterr().out
    assert "Nguyễn Thị Ánh Tuyết" in out
    assert "CAN 008821" in out
    assert "elder" in out and "991231" in out  # no-expiry MRZ


@pytest.mark.parametrize("argv", [[], ["bogus"], ["cards", "--nope"], ["cards", "extra"]])
def test_bad_arguments_exit_2_without_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("cccd-sim: ") and "Traceback" not in err
    assert err.count("\n") == 1


def test_console_script_runs_as_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulators.cli", "cards", "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["name"] == "default"
