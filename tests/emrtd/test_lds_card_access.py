"""EF.CardAccess: the CCCD card's contents (CCCD.md), padding, wrong tag."""

from __future__ import annotations

import pytest

from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import card_access
from kiosk.emrtd.security_infos import (
    ChipAuthenticationInfo,
    PACEInfo,
    TerminalAuthenticationInfo,
)

# TerminalAuthenticationInfo v1, ChipAuthenticationInfo id-CA-ECDH-AES-CBC-CMAC-128 v1,
# PACEInfo id-PACE-ECDH-GM-AES-CBC-CMAC-128 v2 parameter id 13 (brainpoolP256r1).
CCCD_CARD_ACCESS = bytes.fromhex(
    "3134"
    "300D060804007F0007020202020101"
    "300F060A04007F00070202030202020101"
    "3012060A04007F0007020204020202010202010D"
)


def test_cccd_card_access() -> None:
    ca = card_access.parse(CCCD_CARD_ACCESS)
    assert ca.ta_infos == (TerminalAuthenticationInfo("0.4.0.127.0.7.2.2.2", 1),)
    assert ca.ca_infos == (ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", 1),)
    assert ca.pace_infos == (PACEInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13),)
    assert ca.pace_domain_parameter_infos == ()
    assert card_access.encode(ca) == CCCD_CARD_ACCESS


def test_trailing_padding_is_ignored() -> None:
    ca = card_access.parse(CCCD_CARD_ACCESS + b"\x00" * 7)
    assert ca == card_access.parse(CCCD_CARD_ACCESS)
    assert card_access.parse(CCCD_CARD_ACCESS + b"\xff\xff") == ca


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30" + CCCD_CARD_ACCESS[1:],  # SEQUENCE, not SET
        b"\x6e" + CCCD_CARD_ACCESS[1:],  # DG14's wrapper tag
        CCCD_CARD_ACCESS[:-1],  # truncated
        bytes.fromhex("3184FFFFFFFF"),  # absurd length
    ],
)
def test_bad_files_raise(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        card_access.parse(data)
