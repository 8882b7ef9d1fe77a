"""``kiosk.app.doctor``: the checks over the real demo kiosk and a real data folder.

The demo (embedded default: simulated reader, in-process gateway simulator) must report
every check without a failure; a storage key readable by others and a damaged journal must
each fail with a fix in both languages, and leave the other checks as they were.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.app.doctor import Check, is_ok, run_checks, to_json, to_text
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from offline_cache.crypto import KEY_FILE

NAMES = [
    "config",
    "reader",
    "nfc",
    "gateway",
    "his",
    "trust",
    "crl",
    "data folder",
    "disk",
    "journal",
    "audit",
    "printer",
    "clock",
]


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def _with_storage(folder: Path) -> None:
    """Open the kiosk's real storage once: the key and the journal exist afterwards."""
    with Kiosk(resolve(None, Overrides(data_dir=folder))) as kiosk:
        assert kiosk.storage is not None


def test_demo_reports_every_check_without_failure(tmp_path: Path) -> None:
    _with_storage(tmp_path)
    checks = run_checks(resolve(None, Overrides(data_dir=tmp_path)))
    assert [c.name for c in checks] == NAMES
    by = _by_name(checks)
    assert is_ok(checks), to_text(checks)
    assert by["reader"].status == "ok" and "simulated" in by["reader"].detail
    assert by["gateway"].status == "ok" and "token obtained" in by["gateway"].detail
    assert by["journal"].status == "ok" and "integrity ok" in by["journal"].detail
    assert by["data folder"].status == "ok" and "key present" in by["data folder"].detail
    assert by["printer"].status == "skip"
    assert by["nfc"].status == "skip" and by["his"].status == "skip"  # sim:, no [his] url
    assert by["crl"].status == "ok" and by["audit"].status == "ok"
    assert by["clock"].status == "ok" and "against http://127.0.0.1:" in by["clock"].detail
    assert all(c.fix_en == "" for c in checks if c.status == "ok")


def test_key_readable_by_others_fails_with_fix(tmp_path: Path) -> None:
    _with_storage(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    by = _by_name(run_checks(resolve(None, Overrides(data_dir=tmp_path))))
    folder = by["data folder"]
    assert folder.status == "fail"
    assert "0644" in folder.detail
    assert "chmod 600" in folder.fix_en and "chmod 600" in folder.fix_vi
    assert by["journal"].status == "ok"  # one broken part does not taint the others


def test_folder_open_to_group_fails(tmp_path: Path) -> None:
    _with_storage(tmp_path)
    tmp_path.chmod(0o750)
    folder = _by_name(run_checks(resolve(None, Overrides(data_dir=tmp_path))))["data folder"]
    assert folder.status == "fail" and "0750" in folder.detail


def test_corrupted_journal_fails_integrity(tmp_path: Path) -> None:
    _with_storage(tmp_path)
    journal = tmp_path / "journal.db"
    data = bytearray(journal.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the first page's b-tree: the schema is gone
    journal.write_bytes(bytes(data))
    checks = run_checks(resolve(None, Overrides(data_dir=tmp_path)))
    by = _by_name(checks)
    assert by["journal"].status == "fail"
    assert by["journal"].fix_vi and by["journal"].fix_en
    assert not is_ok(checks)
    assert to_json(checks)["ok"] is False


def test_hanging_check_is_bounded(tmp_path: Path) -> None:
    """A check that never returns is a ``fail`` line after the timeout; the others answer."""
    import threading

    from kiosk.app import doctor

    never = threading.Event()

    def stuck(ctx: doctor.Context) -> Check:
        never.wait()
        return Check("disk", "ok", "too late")

    checks = tuple((n, stuck if n == "disk" else fn) for n, fn in doctor.CHECKS)
    settings = resolve(None, Overrides(data_dir=tmp_path))
    try:
        by = _by_name(doctor.run_checks(settings, timeout_s=1, checks=checks))
    finally:
        never.set()
    assert by["disk"].status == "fail" and "no answer" in by["disk"].detail
    assert by["reader"].status == "ok"


def test_json_shape(tmp_path: Path) -> None:
    doc = to_json(run_checks(resolve(None, Overrides(data_dir=tmp_path))))
    assert set(doc) == {"ok", "checks"} and isinstance(doc["ok"], bool)
    for item in doc["checks"]:
        assert set(item) == {"name", "status", "detail", "fix_vi", "fix_en"}
        assert item["status"] in ("ok", "warn", "fail", "skip")
        assert all(isinstance(v, str) for v in item.values())
