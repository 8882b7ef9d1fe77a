"""``cccd-sim``: the simulator's command line (sample cards now; vpcd bridge and gateway later).

Subcommands are registered in :data:`COMMANDS` (name → (help, add_arguments,
handler)), so adding ``vpcd`` or ``gateway`` is one entry and one function.
Bad arguments give a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from simulators.card.profile import SimulatorError, list_profiles, load_profile

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def card_summaries() -> list[dict[str, Any]]:
    """One dict per sample card: ``name``, ``id_number``, ``can``, ``mrz`` (lines joined by \\n).

    The MRZ is composed exactly as personalisation writes it into DG1.
    """

    out = []
    for name in list_profiles():
        profile = load_profile(name)
        p = profile.person
        td1 = p.td1()
        out.append(
            {"name": name, "id_number": p.id_number, "can": p.can, "mrz": "\n".join(td1.lines)}
        )
    return out


def _cards_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list")


def cmd_cards(args: argparse.Namespace) -> int:
    """List the sample cards with their ID number, CAN and MRZ."""
    cards = card_summaries()
    if args.json:
        print(json.dumps(cards, ensure_ascii=False, indent=2))
        return EXIT_OK
    for card in cards:
        profile = load_profile(card["name"])
        print(f"{card['name']}  —  {profile.full_name}")
        print(f"  ID {card['id_number']}   CAN {card['can']}   mode {profile.chip.mode}")
        print(f"  {profile.description}")
        for line in card["mrz"].splitlines():
            print(f"    {line}")
    return EXIT_OK


Handler = Callable[[argparse.Namespace], int]
#: Subcommands: name → (help text, argument setup, handler).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "cards": ("list the sample cards (name, ID number, CAN, MRZ)", _cards_args, cmd_cards),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cccd-sim", description="Software CCCD chip simulator.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cccd-sim`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command][2]
    try:
        return handler(args)
    except SimulatorError as exc:
        print(f"cccd-sim: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
