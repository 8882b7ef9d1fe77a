"""The operator PIN: a salted scrypt hash, a back-off that survives restarts, ``set-pin``."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.app.pin import (
    PIN_ENV,
    PIN_FILE,
    STATE_FILE,
    PinFormatError,
    PinGate,
    hash_pin,
    parse_hash,
)

PIN = "482915"
PIN_HASH = hash_pin(PIN)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_hash_is_salted_scrypt_and_holds_no_pin() -> None:
    other = hash_pin(PIN)
    assert other != PIN_HASH  # a fresh salt each time
    n, r, p, salt, digest = parse_hash(PIN_HASH)
    assert (n, r, p) == (2**14, 8, 1) and len(salt) == 16 and len(digest) == 32
    assert PIN not in PIN_HASH and PIN_HASH.startswith("scrypt$16384$8$1$")
    for bad in ("", "sha256$ab", "scrypt$3$8$1$c2FsdHNhbHQ=$AAAA", "scrypt$16384$8$1$!!$AA"):
        with pytest.raises(PinFormatError):
            parse_hash(bad)


def test_three_wrong_pins_lock_and_each_lock_lasts_twice_as_long() -> None:
    clock = _Clock()
    gate = PinGate(PIN_HASH, clock=clock)
    assert gate.configured and gate.check(PIN) == "ok"
    assert gate.check("000000") == "wrong" and gate.tries_left == 2
    assert gate.check(PIN) == "ok" and gate.tries_left == 3  # a success resets the count
    assert [gate.check("1") for _ in range(3)] == ["wrong", "wrong", "locked"]
    assert gate.check(PIN) == "locked" and gate.locked_for() == 60.0  # even the right PIN
    clock.now += 60.0
    assert [gate.check("2") for _ in range(3)] == ["wrong", "wrong", "locked"]
    assert gate.locked_for() == 120.0  # the second lock: twice as long
    clock.now += 120.0
    assert gate.check(PIN) == "ok"
    assert [gate.check("3") for _ in range(3)][-1] == "locked"
    assert gate.locked_for() == 60.0  # the right PIN ended the back-off


def test_the_lock_survives_a_restart(tmp_path: Path) -> None:
    clock = _Clock()
    state = tmp_path / STATE_FILE
    gate = PinGate(PIN_HASH, state_path=state, clock=clock)
    assert [gate.check("9") for _ in range(3)][-1] == "locked"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    restarted = PinGate(PIN_HASH, state_path=state, clock=clock)
    assert restarted.check(PIN) == "locked" and restarted.locked_for() == 60.0
    # Wrong tries before a restart count after it too.
    clock.now += 61
    assert restarted.check("9") == "wrong"
    again = PinGate(PIN_HASH, state_path=state, clock=clock)
    assert again.tries_left == 2
    # A damaged state file does not open the gate.
    state.write_text("{not json")
    assert PinGate(PIN_HASH, state_path=state, clock=clock).check(PIN) == "locked"


def test_where_the_pin_comes_from(tmp_path: Path) -> None:
    data = tmp_path / "data"
    file_hash = hash_pin("111111")
    data.mkdir()
    (data / PIN_FILE).write_text(file_hash + "\n")
    assert PinGate.from_sources(PIN_HASH, data, {}).check("111111") == "ok"  # file over config
    assert PinGate.from_sources(PIN_HASH, None, {}).check(PIN) == "ok"
    env = PinGate.from_sources(PIN_HASH, data, {PIN_ENV: "222222"})  # the environment wins
    assert env.check("222222") == "ok" and env.check("111111") == "wrong"
    assert "222222" not in repr(vars(env))
    unset = PinGate.from_sources(None, tmp_path / "none", {})
    assert not unset.configured and unset.check(PIN) == "unset"


def _set_pin(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: str,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code = cli.main(["set-pin", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_pin_writes_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(PIN_ENV, raising=False)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / STATE_FILE).write_text('{"wrong": 0, "locks": 3, "locked_until": 9e12}')
    code, out, err = _set_pin(monkeypatch, capsys, "735109\n735109\n", "--data-dir", str(data))
    assert code == 0 and "735109" not in out + err
    stored = (data / PIN_FILE).read_text()
    assert stat.S_IMODE((data / PIN_FILE).stat().st_mode) == 0o600 and "735109" not in stored
    assert not (data / STATE_FILE).exists()  # a new PIN ends the lock-out
    assert PinGate.from_sources(None, data, {}).check("735109") == "ok"


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ("735109\n735110\n", "differ"),
        ("12345\n12345\n", "at least 6 digits"),
        ("abcdef\nabcdef\n", "digits"),
    ],
)
def test_set_pin_refuses_and_changes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: str,
    why: str,
) -> None:
    code, _, err = _set_pin(monkeypatch, capsys, lines, "--data-dir", str(tmp_path / "d"))
    assert code == 2 and why in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d" / PIN_FILE).exists()


def test_set_pin_print_gives_the_config_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = _set_pin(monkeypatch, capsys, "735109\n735109\n", "--print")
    assert code == 0 and out.startswith('operator_pin_hash = "scrypt$')
    from kiosk.config import parse_config

    config = parse_config("[ui]\n" + out)
    assert PinGate(config.ui.operator_pin_hash).check("735109") == "ok"
