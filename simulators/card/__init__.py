"""A software CCCD chip: answers ICAO 9303 APDUs (BAC, PACE-GM, secure messaging, LDS files)."""
