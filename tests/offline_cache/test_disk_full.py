"""A really full disk: a 256 KiB tmpfs in a private mount namespace (root or password-less
sudo). The journal raises StorageFull and keeps every committed check-in; the cache only
notes the problem. Skipped where no mount namespace can be had (the max_page_count test in
test_sqlite_faults.py covers the mapping everywhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.pcscd import _privilege_prefix

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from kiosk.app.storage import KioskCache
from kiosk.config import StorageConfig
from offline_cache.crypto import Sealer, StorageError
from offline_cache.journal import Journal

folder = Path(sys.argv[1])
sealer = Sealer(bytes(range(32)))
now = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
out = {"saved": 0, "error": None}
with Journal(folder / "journal.db", sealer) as j:
    holder = {"id_number": "001088034517", "full_name": "Trần Đức Minh", "note": "x" * 4000}
    try:
        for _ in range(1000):
            j.record(method="manual", chip_verified=False, holder=holder, now=now)
            out["saved"] += 1
    except StorageError as exc:
        out["error"] = type(exc).__name__
    out["listed"] = len(j.day(now.date()))
cache = KioskCache(folder, sealer, StorageConfig())
cache.put("001088034517", {"status": "eligible", "pad": "y" * 200000}, as_of=now)
out["cache_problem"] = cache.problem
cache.close()
print(json.dumps(out))
"""


def _namespace_prefix() -> list[str] | None:
    prefix = _privilege_prefix()
    if prefix is None or shutil.which("unshare") is None:
        return None
    probe = [*prefix, "unshare", "--mount", "--propagation=private", "true"]
    return prefix if subprocess.run(probe, capture_output=True).returncode == 0 else None


def test_a_full_disk_keeps_every_committed_check_in(tmp_path: Path) -> None:
    prefix = _namespace_prefix()
    if prefix is None:
        pytest.skip("no private mount namespace here (needs root or password-less sudo)")
    folder = tmp_path / "small"
    folder.mkdir(mode=0o700)
    script = (
        f'mount -t tmpfs -o size=256k,mode=0700 tmpfs "{folder}" && '
        f'exec "{sys.executable}" -c "$CHILD" "{folder}"'
    )
    proc = subprocess.run(
        [*prefix, "unshare", "--mount", "--propagation=private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "CHILD": _CHILD, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["error"] == "StorageFull"
    assert 0 < out["saved"] < 1000
    assert out["listed"] == out["saved"]  # nothing committed was lost
    assert out["cache_problem"] == "StorageFull"  # noted, not raised: the check-in stands
