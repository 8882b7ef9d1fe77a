"""``cccd-kiosk``, as installed: the command line, and with no command the Qt kiosk when there
is a display (the terminal kiosk when there is none).

:mod:`kiosk.cli` is the command line; it knows nothing of Qt (nothing in ``kiosk`` imports
``ui``). This front door hands it the Qt kiosk as the no-command runner, so the one
``cccd-kiosk`` command opens the screens on a kiosk and the terminal flow on a server.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def run_gui(config_path: Path | None) -> int:
    """The Qt kiosk for ``config_path``, full screen as its ``[ui] fullscreen`` says; the
    embedded default (the demo, ``make run``) in a window."""
    from ui.app import main as ui_main

    if config_path is None:
        return ui_main(["--windowed"])
    return ui_main(["--config", str(config_path)])


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cccd-kiosk`` with the Qt kiosk available."""
    from kiosk.cli import main as cli_main

    return cli_main(argv, gui=run_gui)


if __name__ == "__main__":
    sys.exit(main())
