"""Reader drivers: every transport (simulated, PC/SC, NFC) behind the `kiosk.transport.Transport` protocol."""
