"""The application layer: one kiosk, built once from the configuration, shared by every
front-end (the ``cccd-kiosk`` commands, the terminal kiosk, the Qt kiosk).

* :mod:`kiosk.app.settings` — the configuration, the flags that override it, the demo
  decision and the data folder rule;
* :mod:`kiosk.app.kiosk` — :class:`Kiosk`: trust, reader, eligibility backend, storage,
  outbox, pipeline, today's list and export;
* :mod:`kiosk.app.reports` — typed ``read`` / ``verify`` / ``checkin`` reports;
* :mod:`kiosk.app.messages` — the one exception → words (and exit code) table;
* :mod:`kiosk.app.demo` — the sample cards and the gateway simulator of the demo;
* :mod:`kiosk.app.dump` — ``read --out`` dumps and their offline verification.

No Qt here: the Qt kiosk is one front-end among three.
"""
