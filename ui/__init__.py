"""The PySide6 kiosk (reception and self-check modes): one front-end of :mod:`kiosk.app`."""
