"""``read --out`` never writes personal data through a planted symlink."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.app.dump import check_out_dir, write_dump
from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import resolve
from kiosk.cccd.access import key_from_id
from simulators.card.profile import load_profile
from tests.cli.test_cli import run


def test_out_as_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    out = tmp_path / "dump"
    out.symlink_to(target)
    proc = run("read", "--reader", "sim:default", "--can", "034517", "--out", str(out))
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert list(target.iterdir()) == []


def test_a_link_planted_in_the_dump_folder_is_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "dump"
    out.mkdir(mode=0o700)
    check_out_dir(out)  # empty and ours: accepted...
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (out / "DG1").symlink_to(victim)  # ...then someone plants a link before the write
    with Kiosk(resolve(None), demo_gateway=False) as kiosk:
        report, _ = kiosk.read([key_from_id(load_profile("default").id_number)])
    with pytest.raises(UsageError):
        write_dump(out, report.result)
    assert victim.read_bytes() == b"precious"


def test_a_fresh_dump_folder_is_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dump"
    with Kiosk(resolve(None), demo_gateway=False) as kiosk:
        report, _ = kiosk.read([key_from_id(load_profile("default").id_number)])
    write_dump(out, report.result)
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o600}
    assert (out / "DG1").is_file() and not (out / "DG1").is_symlink()


def test_dump_files_are_created_exclusively_without_following_links(tmp_path: Path) -> None:
    from kiosk.app.dump import _write_private

    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    planted = tmp_path / "DG13"
    planted.symlink_to(victim)
    with pytest.raises(UsageError, match="appeared"):
        _write_private(planted, b"personal data")
    assert victim.read_bytes() == b"precious"
