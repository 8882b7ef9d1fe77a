"""``kiosk.app.doctor``'s reader check on a real private pcscd with vpcd readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.app.doctor import CHECKS, Check, run_checks
from kiosk.app.settings import Overrides, resolve
from simulators.card.chip import ATR
from tests.fixtures.pcscd import VPCD_READER0, Pcscd

READER = tuple((n, fn) for n, fn in CHECKS if n == "reader")


def _reader_check(tmp_path: Path) -> Check:
    settings = resolve(None, Overrides(reader="pcsc", data_dir=tmp_path))
    [check] = run_checks(settings, checks=READER, timeout_s=30)
    return check


@pytest.mark.pcsc
def test_readers_listed_and_card_seen(vpcd_card: Any, tmp_path: Path) -> None:
    check = _reader_check(tmp_path)
    assert check.status == "ok", check
    # the simulated chip's ATR, as pcscd reports it for the card on vpcd's first reader
    atr = ATR.hex(" ").upper()
    assert f"{VPCD_READER0} (card present, ATR {atr})" in check.detail
    assert check.detail.count("Virtual PCD") == 2  # both vpcd readers, one with the card


@pytest.mark.pcsc
def test_pcscd_stopped_fails_with_fix(running_pcscd: Pcscd, tmp_path: Path) -> None:
    running_pcscd.stop()
    try:
        check = _reader_check(tmp_path)
    finally:
        running_pcscd.start()
    assert check.status == "fail" and "pcscd" in check.detail
    assert "pcscd" in check.fix_en and "pcscd" in check.fix_vi
