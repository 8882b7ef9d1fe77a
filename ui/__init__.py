"""PySide6 kiosk user interface (reception and self-check modes). Not built yet."""
