"""``cccd-sim``: the simulator's command line (sample cards, vpcd bridge, gateway).

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


def _vpcd_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--card", default="default", help="sample card name (see `cccd-sim cards`)")
    p.add_argument("--host", default="127.0.0.1", help="vpcd's address (loopback only)")
    p.add_argument("--port", type=int, default=35963, help="vpcd's port (35963 = first slot)")
    p.add_argument(
        "--remove-after",
        type=int,
        metavar="N",
        help="pull the card when it is sent APDU N+1 (after answering N APDUs)",
    )


def cmd_vpcd(args: argparse.Namespace) -> int:
    """Connect a sample card to vpcd inside pcscd; insert/remove it on command or signal.

    Controls: SIGUSR1 pulls the card, SIGUSR2 inserts it; on stdin one command a
    line — ``remove``, ``insert``, ``remove-after N``, ``status``, ``quit``.
    ``quit``, SIGINT or SIGTERM stop it (end of stdin does not, so it can run in
    the background). One status line per event goes to stdout.
    """
    import signal
    import threading

    from simulators.card.personalize import make_chip
    from simulators.vpcd import VpcdCard, VpcdError, check_loopback

    try:
        check_loopback(args.host)
    except VpcdError as exc:
        raise _usage(str(exc)) from None
    if not 0 < args.port < 65536:
        raise _usage(f"--port {args.port} is not a TCP port")
    if args.remove_after is not None and args.remove_after < 0:
        raise _usage("--remove-after must be >= 0")
    chip = make_chip(args.card)

    def say(text: str) -> None:
        print(text, flush=True)

    card = VpcdCard(chip, args.host, args.port, on_removed=lambda: say("removed"))
    done = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if signum == signal.SIGUSR1:
            card.remove()
            say("removed")
        elif signum == signal.SIGUSR2:
            card.insert()
            say("inserted")
        else:
            done.set()

    for signum in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
        signal.signal(signum, on_signal)
    card.start()
    if args.remove_after is not None:
        card.remove_after(args.remove_after)
    say(f"card {args.card} inserted, connecting to vpcd at {args.host}:{args.port}")

    def commands() -> None:
        for line in sys.stdin:
            word, _, rest = line.strip().partition(" ")
            if word == "remove":
                card.remove()
                say("removed")
            elif word == "insert":
                card.insert()
                say("inserted")
            elif word == "remove-after" and rest.strip().isdigit():
                card.remove_after(int(rest))
                say(f"removing after {int(rest)} APDUs")
            elif word == "status":
                state = "connected" if card.connected else "inserted" if card.inserted else "out"
                say(f"{state} apdus={card.apdus}")
            elif word == "quit":
                done.set()
                return
            elif word:
                say(f"unknown command {word!r}: remove, insert, remove-after N, status, quit")

    threading.Thread(target=commands, name="vpcd-stdin", daemon=True).start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        card.stop()
    return EXIT_OK


def _gateway_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (admin endpoints stay loopback-only)",
    )
    p.add_argument("--data", metavar="FILE", help="insured people (TOML; default: bundled)")
    p.add_argument("--username", help="API user (or env CCCD_SIM_GATEWAY_USERNAME)")
    p.add_argument("--password", help="API password (or env CCCD_SIM_GATEWAY_PASSWORD)")
    p.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    p.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds")


def cmd_gateway(args: argparse.Namespace) -> int:
    """Run the simulated BHXH gateway until SIGINT/SIGTERM.

    Credentials not given (flags or environment) are made up at random and printed once
    (``credentials: username=... password=...``) so nothing secret lives in the repo; then
    ``listening on http://HOST:PORT`` when requests are accepted (the real port for 0).
    """
    import os
    import secrets
    import signal
    import threading
    from pathlib import Path

    from simulators.gateway.data import DataError, InsuredData
    from simulators.gateway.server import GatewayState, is_loopback, make_server

    def usage(message: str) -> SystemExit:
        print(f"cccd-sim gateway: {message}", file=sys.stderr)
        return SystemExit(EXIT_USAGE)

    if not is_loopback(args.host) and not args.allow_remote:
        raise usage(f"--host {args.host} is not loopback; add --allow-remote to mean it")
    if not 0 <= args.port < 65536:
        raise usage(f"--port {args.port} is not a TCP port")
    if args.latency_ms < 0 or args.token_ttl < 0:
        raise usage("--latency-ms and --token-ttl must be >= 0")
    try:
        data = InsuredData.load(Path(args.data) if args.data else None)
    except DataError as exc:
        raise usage(str(exc)) from None
    username = args.username or os.environ.get("CCCD_SIM_GATEWAY_USERNAME")
    password = args.password or os.environ.get("CCCD_SIM_GATEWAY_PASSWORD")
    if not username or not password:
        username = username or f"sim-{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)
        print(f"credentials: username={username} password={password}", flush=True)
    state = GatewayState(
        data, username, password, token_ttl=args.token_ttl, latency_ms=args.latency_ms
    )
    try:
        server = make_server(args.host, args.port, state)
    except OSError as exc:
        print(f"cccd-sim gateway: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_FAILED

    def on_signal(_signum: int, _frame: object) -> None:
        state.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return EXIT_OK


def _usage(message: str) -> SystemExit:
    print(f"cccd-sim vpcd: {message}", file=sys.stderr)
    return SystemExit(EXIT_USAGE)


Handler = Callable[[argparse.Namespace], int]
#: Subcommands: name → (help text, argument setup, handler).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "cards": ("list the sample cards (name, ID number, CAN, MRZ)", _cards_args, cmd_cards),
    "vpcd": ("put a sample card in vpcd's reader inside pcscd", _vpcd_args, cmd_vpcd),
    "gateway": ("run the simulated BHXH eligibility gateway", _gateway_args, cmd_gateway),
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
