"""Reader drivers: each transport (simulated, PC/SC, NFC) behind `kiosk.transport.Transport`."""
