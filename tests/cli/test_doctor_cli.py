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


def test_gateway_without_credentials_is_a_config_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kiosk that cannot even be built (credentials missing) is a ``config`` fail with the
    error table's fix; the checks that need no kiosk still report."""
    from kiosk.eligibility import bhxh

    for name in (bhxh.ENV_USERNAME, bhxh.ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[reader]\nname = "sim:default"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        '[gateway]\nurl = "https://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    code, out = _run(["doctor", "--json", "--config", str(config)], capsys)
    by = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert by["config"]["status"] == "fail" and "ConfigurationError" in by["config"]["detail"]
    assert by["config"]["fix_en"] and by["config"]["fix_vi"]
    assert by["gateway"]["status"] == "skip"
    assert by["data folder"]["status"] == "ok"
