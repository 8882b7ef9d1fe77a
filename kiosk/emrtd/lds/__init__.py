"""Logical Data Structure files: one module per file, each ``parse(bytes)`` and ``encode(obj)``."""
