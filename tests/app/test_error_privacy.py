"""Error messages and reprs never echo personal data: the CLI prints them on stderr, which a
kiosk's service manager writes to its log."""

from __future__ import annotations

import pytest

from kiosk.cccd import access
from kiosk.emrtd.errors import AccessKeyError
from tests.cli.test_cli import run

LINES = ["IDVNM0790051367092079005136<<6", "7906307M3906309VNM<<<<<<<<<<<8", "VO<<MINH<KHOI"]


def test_access_keys_hide_their_values_in_repr() -> None:
    assert "034517" not in repr(access.CAN("034517"))
    key = access.MRZKey("079005136", "790630", "390630")
    assert "079005136" not in repr(key) and "790630" not in repr(key)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (LINES[0][:-1] + "1\n" + LINES[1] + "\n" + LINES[2], "079005136"),  # bad composite
        (
            LINES[0].replace("0790051367", "0790051368") + "\n" + LINES[1] + "\n" + LINES[2],
            "079005136",
        ),
        (LINES[0] + "\n" + LINES[1].replace("7906307", "7906317") + "\n" + LINES[2], "790631"),
    ],
)
def test_mrz_errors_name_the_field_not_the_value(text: str, secret: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        access.key_from_mrz(text)
    assert err.value.field
    assert secret not in str(err.value)


def test_qr_errors_do_not_echo_the_holder() -> None:
    qr = "079212004562|12345|Phạm Gia Bảo|31022012|Nam|Số 27 Nguyễn Trãi|02042026"
    with pytest.raises(AccessKeyError) as err:
        access.parse_cccd_qr(qr)
    message = str(err.value)
    for secret in ("079212004562", "12345", "Phạm Gia Bảo", "31022012", "Nguyễn Trãi"):
        assert secret not in message


def test_cli_dob_error_does_not_echo_it() -> None:
    proc = run("read", "--reader", "sim:default", "--id", "001088034517", "--dob", "21/07/1988")
    assert proc.returncode == 2 and "21/07/1988" not in proc.stderr
