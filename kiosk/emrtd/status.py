"""ISO/IEC 7816-4 status words: their names and a readable sentence for each.

Apart from :mod:`kiosk.emrtd.apdu` so that :mod:`kiosk.emrtd.errors` can word a
:class:`~kiosk.emrtd.errors.StatusError` without importing the APDU codec (which raises
those errors): no import cycle inside the ICAO library.
"""

from __future__ import annotations

# Status words, named as in ISO/IEC 7816-4.
SW_OK = 0x9000
SW_END_OF_FILE_WARNING = 0x6282
SW_VERIFICATION_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SM_NOT_SUPPORTED = 0x6882
SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_REFERENCE_DATA_NOT_USABLE = 0x6984
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_COMMAND_NOT_ALLOWED_NO_EF = 0x6986
SW_SM_DATA_MISSING = 0x6987
SW_SM_DATA_INCORRECT = 0x6988
SW_WRONG_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_P1P2 = 0x6A86
SW_REFERENCE_NOT_FOUND = 0x6A88
SW_WRONG_P1P2_OFFSET = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00

_MESSAGES: dict[int, str] = {
    SW_OK: "success",
    SW_END_OF_FILE_WARNING: "end of file reached before Le bytes",
    SW_VERIFICATION_FAILED: "verification failed",
    SW_WRONG_LENGTH: "wrong length",
    SW_SM_NOT_SUPPORTED: "secure messaging not supported",
    SW_SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
    SW_AUTH_METHOD_BLOCKED: "authentication method blocked",
    SW_REFERENCE_DATA_NOT_USABLE: "reference data not usable",
    SW_CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    SW_COMMAND_NOT_ALLOWED_NO_EF: "command not allowed (no current EF)",
    SW_SM_DATA_MISSING: "expected secure messaging data objects missing",
    SW_SM_DATA_INCORRECT: "secure messaging data objects incorrect",
    SW_WRONG_DATA: "incorrect parameters in the data field",
    SW_FUNCTION_NOT_SUPPORTED: "function not supported",
    SW_FILE_NOT_FOUND: "file or application not found",
    SW_RECORD_NOT_FOUND: "record not found",
    SW_WRONG_P1P2: "incorrect parameters P1-P2",
    SW_REFERENCE_NOT_FOUND: "referenced data not found",
    SW_WRONG_P1P2_OFFSET: "wrong parameters (offset outside the EF)",
    SW_INS_NOT_SUPPORTED: "instruction not supported",
    SW_CLA_NOT_SUPPORTED: "class not supported",
    SW_UNKNOWN: "no precise diagnosis",
}


def sw_message(sw: int) -> str:
    """A readable sentence for a status word, covering the 61xx/6Cxx/63Cx families."""
    if sw in _MESSAGES:
        return _MESSAGES[sw]
    hi, lo = sw >> 8, sw & 0xFF
    if hi == 0x61:
        return f"{lo or 256} more response bytes available"
    if hi == 0x6C:
        return f"wrong Le; exact length is {lo or 256}"
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {lo & 0x0F} tries left"
    return "unknown status"
