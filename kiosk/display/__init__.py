"""The calling display: a web page for a TV in the waiting room (``cccd-kiosk display``).

:mod:`kiosk.display.server` serves the page, its JSON board and a server-sent event stream
that pushes every call within a poll interval; :mod:`kiosk.display.page` is the page itself
(HTML, CSS, script). Qt-free: the display runs on any machine that can reach the storage.
"""
