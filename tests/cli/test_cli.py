"""``cccd-kiosk read`` as a user runs it: a real subprocess, JSON shape, dump, exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.emrtd import tlv
from simulators.card.profile import list_profiles, load_profile

HOLDER_KEYS = {
    "id_number",
    "full_name",
    "date_of_birth",
    "sex",
    "nationality",
    "ethnicity",
    "religion",
    "place_of_origin",
    "place_of_residence",
    "identifying_marks",
    "date_of_issue",
    "date_of_expiry",
    "father_name",
    "mother_name",
    "spouse_name",
    "old_id_number",
    "no_expiry",
    "card_serial",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def sim_cards() -> list[dict[str, str]]:
    out = subprocess.run(
        [sys.executable, "-m", "simulators.cli", "cards", "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    cards = json.loads(out.stdout)
    assert isinstance(cards, list)
    return cards


@pytest.fixture(scope="module")
def cards() -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in sim_cards()}


@pytest.mark.parametrize("name", list_profiles())
def test_read_json_every_card(name: str, cards: dict[str, dict[str, str]]) -> None:
    card = cards[name]
    profile = load_profile(name)
    if profile.chip.mode == "bac":
        proc = run("read", "--reader", f"sim:{name}", "--mrz", card["mrz"], "--json")
    else:
        proc = run("read", "--reader", f"sim:{name}", "--can", card["can"], "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    holder = doc["holder"]
    assert set(holder) == HOLDER_KEYS
    person = profile.person
    assert holder["id_number"] == card["id_number"] == profile.id_number
    assert holder["full_name"] == person.full_name
    assert holder["date_of_birth"] == person.date_of_birth.isoformat()
    if person.date_of_expiry is None:
        assert holder["date_of_expiry"] is None
    else:
        assert holder["date_of_expiry"] == person.date_of_expiry.isoformat()
    assert doc["document"]["document_number"] == profile.id_number[-9:]
    assert doc["document"]["mrz_lines"] == card["mrz"].split("\n")
    assert doc["photo"]["format"] == "jpeg" and doc["photo"]["bytes"] > 2000
    read = doc["read"]
    assert read["access"] == ("BAC" if profile.chip.mode == "bac" else "PACE")
    assert read["apdus"] > 5 and read["bytes"] > doc["photo"]["bytes"]
    assert read["modeled_seconds"] > 0


def test_text_output_has_vietnamese(cards: dict[str, dict[str, str]]) -> None:
    proc = run("read", "--reader", "sim:anh-tuyet", "--can", cards["anh-tuyet"]["can"])
    assert proc.returncode == 0, proc.stderr
    assert "Nguyễn Thị Ánh Tuyết" in proc.stdout
    assert "Họ và tên / Full name" in proc.stdout


def test_out_writes_raw_files_owner_only(tmp_path: Path, cards: dict[str, dict[str, str]]) -> None:
    out = tmp_path / "dump"
    proc = run(
        "read", "--reader", "sim:default", "--can", cards["default"]["can"], "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {
        "EF.CardAccess",
        "EF.COM",
        "EF.SOD",
        "DG1",
        "DG2",
        "DG13",
        "DG14",
        "DG15",
        "DG2.jpg",
        "AA.json",
    }
    tags = {"EF.COM": 0x60, "EF.SOD": 0x77, "DG1": 0x61, "DG2": 0x75, "DG13": 0x6D, "DG15": 0x6F}
    for name, tag in tags.items():
        raw = (out / name).read_bytes()
        obj = tlv.decode(raw)  # exactly one TLV: outer tag included, nothing trailing
        assert obj.tag == tag
    assert (out / "DG2.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "DG13").stat().st_mode) == 0o600


def test_qr_key(cards: dict[str, dict[str, str]]) -> None:
    p = load_profile("teen").person
    qr = "|".join(
        [
            cards["teen"]["id_number"],
            "",
            p.full_name,
            p.date_of_birth.strftime("%d%m%Y"),
            p.sex,
            p.place_of_residence,
            p.date_of_issue.strftime("%d%m%Y"),
        ]
    )
    proc = run("read", "--reader", "sim:teen", "--qr", qr, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["holder"]["id_number"] == cards["teen"]["id_number"]


def test_id_and_dob_on_bac_only_card(cards: dict[str, dict[str, str]]) -> None:
    p = load_profile("bac-only").person
    proc = run(
        "read",
        "--reader",
        "sim:bac-only",
        "--id",
        cards["bac-only"]["id_number"],
        "--dob",
        p.date_of_birth.isoformat(),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["read"]["access"] == "BAC"


def test_wrong_can_exits_5_with_one_line() -> None:
    proc = run("read", "--reader", "sim:default", "--can", "000000")
    assert proc.returncode == 5
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_wrong_mrz_exits_5(cards: dict[str, dict[str, str]]) -> None:
    lines = cards["bac-only"]["mrz"].split("\n")
    # A different (valid) birth date: check digits hold, the key is wrong.
    from kiosk.emrtd.mrz import check_digit

    dob = "800101"
    line2 = dob + check_digit(dob) + lines[1][7:]
    line2 = line2[:29] + check_digit(lines[0][5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    proc = run("read", "--reader", "sim:bac-only", "--mrz", "\n".join([lines[0], line2, lines[2]]))
    assert proc.returncode == 5, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["read", "--reader", "sim:default"],
        ["read", "--reader", "sim:default", "--can", "12ab56"],
        ["read", "--reader", "sim:default", "--id", "001088034517"],
        ["read", "--reader", "sim:default", "--id", "001088034517", "--dob", "21/07/1988"],
        ["read", "--reader", "sim:default", "--mrz", "IDVNM123"],
        ["read", "--reader", "sim:no-such-card", "--can", "123456"],
        ["read", "--reader", "floppy:0", "--can", "123456"],
        ["read", "--can", "123456", "--qr", "x"],
        ["frobnicate"],
    ],
)
def test_unusable_arguments_exit_2(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_pace_only_request_on_bac_card_fails_cleanly(cards: dict[str, dict[str, str]]) -> None:
    proc = run(
        "read", "--reader", "sim:bac-only", "--access", "pace", "--mrz", cards["bac-only"]["mrz"]
    )
    assert proc.returncode == 1
    assert "PACE" in proc.stderr and "Traceback" not in proc.stderr


def test_unwritable_out_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("read", "--reader", "sim:default", "--can", "034517", "--out", str(blocker / "d"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Cannot write or read a file" in proc.stderr


def test_no_command_without_a_display_runs_the_terminal_kiosk(tmp_path: Path) -> None:
    """``make run`` on a machine with no display: one check-in of the default card, then
    end of input quits cleanly (never a Qt abort)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["CCCD_KIOSK_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Trần Đức Minh" in out
    assert "000" in out and "Số thứ tự / Queue number: 1" in out
    assert "Traceback" not in proc.stderr


def test_holder_lines_show_unknown_expiry_as_unknown() -> None:
    from dataclasses import replace

    from kiosk.app.reports import holder_lines
    from kiosk.cccd.holder import holder_from

    holder = holder_from(None, None)
    expiry = next(line for line in holder_lines(holder) if line.startswith("Có giá trị đến"))
    assert expiry.split()[-1] == "—" and "No expiry" not in expiry
    said = next(
        line
        for line in holder_lines(replace(holder, no_expiry=True))
        if line.startswith("Có giá trị đến")
    )
    assert said.endswith("Không thời hạn / No expiry")


def test_read_of_a_chip_whose_files_all_fail_to_parse_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A chip read whose DG1 and DG13 do not parse: the reason, exit 1, never empty fields."""
    from kiosk import cli
    from kiosk.emrtd import session
    from kiosk.emrtd.errors import LDSParseError

    def broken(raw: bytes) -> object:
        raise LDSParseError("unparseable on purpose")

    monkeypatch.setitem(session._PARSERS, "DG1", broken)
    monkeypatch.setitem(session._PARSERS, "DG13", broken)
    monkeypatch.setenv("CCCD_KIOSK_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "dump"
    code = cli.main(["read", "--reader", "sim:default", "--can", "034517", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "holds no usable holder data: DG13 could not be parsed, DG1 could not be parsed" in (
        captured.err
    )
    assert "Traceback" not in captured.err
    assert (out / "DG13").is_file()  # the raw files are still dumped, to find out why
