"""The Debian package, end to end on this machine: build, install, check in, upgrade, remove,
purge — with the real dpkg, the real system user and the installed ``/usr/bin/cccd-kiosk``.

Needs root and dpkg (CI runs as root on Debian); it installs into the real /opt, /etc and
/var/lib and purges the package at the end. The .deb is built once per run (pip's wheel
cache under ``build/deb`` keeps a rebuild near a minute); the upgrade's second version is
the same tree repacked with a higher version number.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/var/lib/cccd-kiosk")
ETC = Path("/etc/cccd-kiosk")
UNITS = Path("/lib/systemd/system")

pytestmark = [
    pytest.mark.deb,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("dpkg-deb") is None,
        reason="installs a .deb: needs root and dpkg (CI runs as root on Debian)",
    ),
]


def sh(*cmd: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; with ``check``, a failure names the command and shows its output."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=False, env=env, timeout=900
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
            f"--- stdout (end)\n{done.stdout[-3000:]}\n--- stderr (end)\n{done.stderr[-3000:]}"
        )
    return done


def install(deb: Path) -> None:
    """``dpkg -i``, then apt-get -f for the dependencies dpkg could not satisfy."""
    if sh("dpkg", "-i", deb, check=False).returncode != 0:
        sh("apt-get", "-o", "DPkg::Lock::Timeout=900", "-f", "install", "-y",
           "--no-install-recommends")  # fmt: skip
    assert sh("dpkg-query", "-W", "-f=${Status} ${Version}", "cccd-kiosk").stdout.startswith(
        "install ok installed"
    )


def as_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command as the kiosk's system user, as the units run it: a clean
    environment (none of the test session's simulator or pcscd settings)."""
    return sh("runuser", "-u", "cccd-kiosk", "--", "env", "-i", "PATH=/usr/bin:/bin",
              f"HOME={DATA}", "LANG=C.UTF-8", f"CCCD_KIOSK_DATA_DIR={DATA}",
              "/usr/bin/cccd-kiosk", "--config", str(ETC / "kiosk.toml"), *args,
              check=False)  # fmt: skip


def checkins() -> int:
    with sqlite3.connect(f"file:{DATA / 'demo' / 'journal.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM checkins").fetchone()[0])


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The built .deb and the same tree repacked as the next version; purged afterwards."""
    out = sh(ROOT / "scripts" / "build_deb.sh").stdout.strip().splitlines()[-1]
    first = Path(out)
    tree = tmp_path_factory.mktemp("deb") / "tree"
    sh("dpkg-deb", "-R", first, tree)
    control = tree / "DEBIAN" / "control"
    version = sh("dpkg-deb", "-f", first, "Version").stdout.strip()
    control.write_text(
        control.read_text().replace(f"Version: {version}", f"Version: {version}+1"), "utf-8"
    )
    second = first.with_name(first.name.replace(version, version + "+1"))
    sh("dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", tree, second)
    sh("dpkg", "--purge", "cccd-kiosk", check=False)
    yield first, second
    sh("dpkg", "--purge", "cccd-kiosk", check=False)


def test_install_upgrade_remove_purge(debs: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = debs
    install(first)
    # what postinst made: the user, the data folder, the secrets file, the commands
    assert sh("id", "-u", "cccd-kiosk").returncode == 0
    assert DATA.stat().st_mode & 0o777 == 0o700 and DATA.owner() == "cccd-kiosk"
    assert (ETC / "env").stat().st_mode & 0o777 == 0o600
    assert Path("/usr/bin/cccd-kiosk").resolve() == Path("/opt/cccd-kiosk/bin/cccd-kiosk")
    rules = Path("/lib/udev/rules.d/60-cccd-kiosk.rules").read_text()
    assert 'ATTR{idVendor}=="054c", ATTR{idProduct}=="06c1|06c3"' in rules
    assert 'GROUP="cccd-kiosk"' in rules

    # a demo check-in from the installed files, as the units' user
    run = as_kiosk("checkin", "--reader", "sim:default", "--can", "034517", "--json")
    assert run.returncode == 0, run.stderr
    first_checkin = json.loads(run.stdout)
    assert first_checkin["queue_number"] and first_checkin["repeat"] is False
    if " doctor " in sh("/usr/bin/cccd-kiosk", "--help").stdout:
        from kiosk.app.doctor import CHECKS

        doctor = as_kiosk("doctor", "--json")
        report = json.loads(doctor.stdout)
        # every check reports from the installed files, each with a status it knows
        assert [c["name"] for c in report["checks"]] == [name for name, _ in CHECKS]
        assert {c["status"] for c in report["checks"]} <= {"ok", "warn", "fail", "skip"}
        assert doctor.returncode == (0 if report["ok"] else 1)
    key = (DATA / "demo" / "storage.key").read_bytes()
    rows = checkins()
    assert rows == 1

    # the admin's edits to the conffile and the secrets survive an upgrade, as do data and key
    with (ETC / "kiosk.toml").open("a", encoding="utf-8") as f:
        f.write("# edited on site\n")
    (ETC / "env").write_text("CCCD_KIOSK_HIS_TOKEN=site-secret\n", "utf-8")
    install(second)
    assert (ETC / "kiosk.toml").read_text("utf-8").endswith("# edited on site\n")
    assert (ETC / "env").read_text("utf-8") == "CCCD_KIOSK_HIS_TOKEN=site-secret\n"
    assert (DATA / "demo" / "storage.key").read_bytes() == key and checkins() == rows
    run = as_kiosk("checkin", "--reader", "sim:default", "--can", "034517", "--json")
    assert run.returncode == 0, run.stderr
    # the same patient again today: found in the journal (it opened with the same key)
    again = json.loads(run.stdout)
    assert again["repeat"] is True and again["checkin_id"] == first_checkin["checkin_id"]
    assert checkins() == rows

    # remove: the program goes, the journal and its key stay
    sh("dpkg", "-r", "cccd-kiosk")
    assert not Path("/usr/bin/cccd-kiosk").exists() and not Path("/opt/cccd-kiosk/bin").exists()
    assert (DATA / "demo" / "storage.key").read_bytes() == key
    assert (ETC / "env").exists()

    # purge: data, key, secrets and the user are gone
    sh("dpkg", "--purge", "cccd-kiosk")
    assert not DATA.exists() and not (ETC / "env").exists()
    assert sh("id", "-u", "cccd-kiosk", check=False).returncode != 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_units_verify(tmp_path: Path) -> None:
    """The shipped units pass ``systemd-analyze verify`` with the commands they run present
    (the staged tree's, linked where the units expect them), and a broken one does not."""
    if shutil.which("cage") is None:
        pytest.skip("cage is not installed (scripts/bootstrap.sh installs it)")
    units = sorted((ROOT / "packaging" / "deb" / "systemd").iterdir())
    staged = tmp_path / "system"
    staged.mkdir()
    for unit in units:
        text = unit.read_text("utf-8").replace("/usr/bin/cccd-kiosk", shutil.which("true") or "")
        (staged / unit.name).write_text(text, "utf-8")
    ok = sh("systemd-analyze", "verify", *sorted(staged.iterdir()), check=False)
    assert ok.returncode == 0, ok.stderr
    assert "cccd-kiosk.service" in {u.name for u in units}
    broken = staged / "cccd-kiosk-purge.service"
    broken.write_text(broken.read_text("utf-8").replace("Type=oneshot", "Type=oneshott"), "utf-8")
    bad = sh("systemd-analyze", "verify", broken, check=False)
    assert bad.returncode != 0 or "oneshott" in bad.stderr
