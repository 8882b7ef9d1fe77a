"""ICAO Doc 9303 eMRTD stack: BER-TLV, APDUs, secure messaging, BAC, PACE, LDS files, sessions."""
