"""``cccd-kiosk doctor [--json]``: the report's text and JSON forms and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk import cli
from offline_cache.crypto import KEY_FILE


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().out


def test_demo_json_ok_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["doctor", "--json", "--data-dir", str(tmp_path)], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    assert {c["name"] for c in doc["checks"]} >= {"reader", "gateway", "journal", "printer"}
    assert all(set(c) == {"name", "status", "detail", "fix_vi", "fix_en"} for c in doc["checks"])


def test_bad_key_mode_exit_1_with_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / KEY_FILE).write_bytes(b"x" * 64)
    (tmp_path / KEY_FILE).chmod(0o644)
    tmp_path.chmod(0o700)
    code, out = _run(["doctor", "--data-dir", str(tmp_path)], capsys)
    assert code == 1
    line = next(s for s in out.splitlines() if "data folder" in s)
    assert line.startswith("FAIL") and "0644" in line
    assert "chmod 600" in out  # the fix is printed under the line
    code, out = _run(["doctor", "--json", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and json.loads(out)["ok"] is False
