"""``cccd-kiosk``: the kiosk's command line — read, verify, check in, export, outbox.

Every command builds one :class:`kiosk.app.Kiosk` from ``--config`` (or the embedded default,
the demo) and the flags, and only parses its input and prints the result. Errors are one line
on stderr from the one error table (:func:`kiosk.app.messages.cli_line`), never a traceback,
with that table's exit code: 0 success, 1 the read failed (card, reader, data or storage),
2 unusable arguments or configuration, 5 the access key was wrong (``verify``: 3 issuer
unknown, 4 not genuine). Personal data goes only to stdout or to the ``--out`` folder the user
asked for, never to a log.

With no command it runs the kiosk: ``gui`` (the Qt kiosk, passed in by :mod:`ui.launch`, the
installed ``cccd-kiosk``) when there is a display, else the terminal kiosk.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk import admin_cli, audit_cli, checkin_cli, db_cli, display_cli, doctor_cli
from kiosk.app import pinned
from kiosk.app.audit import record_in
from kiosk.app.dump import check_out_dir, verify_dump, write_dump
from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk, load_trust_store
from kiosk.app.logs import configure_logging
from kiosk.app.messages import EXIT_FAILED, EXIT_OK, cli_line, message_for
from kiosk.app.settings import Overrides, data_folder, resolve
from kiosk.cli_common import (
    Parser,
    add_key_args,
    add_reader_args,
    keys_from_args,
    link_kbps,
    settings_from_args,
)
from kiosk.emrtd.session import AccessMode

#: The Qt kiosk's entry, when a front-end above this package provides one.
GuiRunner = Callable[[Path | None], int]


def build_parser() -> Parser:
    p = Parser(
        prog="cccd-kiosk",
        description="Check patients in with Vietnamese chip ID cards (CCCD). With no command: "
        "the kiosk (the Qt screens, or the terminal flow when there is no display).",
    )
    p.add_argument("--config", dest="kiosk_config", type=Path, help="TOML configuration file")
    sub = p.add_subparsers(dest="command", required=False, parser_class=Parser)

    r = sub.add_parser("read", help="read a card, verify it and print the holder's data")
    add_reader_args(r)
    add_key_args(r.add_mutually_exclusive_group(required=True))
    r.add_argument("--dob", help="date of birth YYYY-MM-DD (with --id)")
    r.add_argument("--access", choices=[m.value for m in AccessMode], default="auto")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.add_argument("--out", type=Path, help="write the raw files read to this folder")
    r.add_argument(
        "--evidence",
        action="store_true",
        help="with --out: also write the APDU log with its plaintext views (personal data)",
    )

    v = sub.add_parser("verify", help="re-verify a dump written by read --out")
    v.add_argument("dir", type=Path, help="the dump folder")
    v.add_argument("--trust", action="append", default=[], metavar="PATH")
    v.add_argument("--config", type=Path, help="TOML configuration file (its [trust] paths)")
    v.add_argument("--json", action="store_true")

    t = sub.add_parser("trust", help="manage the CSCAs, master lists and CRLs this kiosk pins")
    tsub = t.add_subparsers(dest="trust_command", required=True, parser_class=Parser)
    ta = tsub.add_parser("add", help="pin a CSCA certificate, master list or CRL")
    ta.add_argument("file", type=Path)
    ta.add_argument(
        "--sha256", required=True, help="its SHA-256 fingerprint, obtained by another channel"
    )
    tl = tsub.add_parser("list", help="what is pinned: subject, key id, validity, fingerprint")
    tl.add_argument("--json", action="store_true")
    tr = tsub.add_parser("remove", help="unpin by fingerprint (or its first 8+ hex digits)")
    tr.add_argument("fingerprint")
    tf = tsub.add_parser("fetch-crl", help="fetch and pin the CRLs the pinned CSCAs name")
    tf.add_argument("--timeout", type=float, default=10.0, help="seconds per download")
    tf.add_argument("--json", action="store_true")
    for sp in (ta, tl, tr, tf):
        sp.add_argument("--config", type=Path, help="TOML configuration file")
        sp.add_argument("--data-dir", type=Path, help="the data folder (default: the config's)")

    d = sub.add_parser("demo", help="read a sample simulated card with its CAN")
    d.add_argument("--card", default="default")
    d.add_argument("--json", action="store_true")
    checkin_cli.register(sub)
    admin_cli.register(sub)
    doctor_cli.register(sub)
    db_cli.register(sub)
    display_cli.register(sub)
    audit_cli.register(sub)
    return p


def _print(doc: object, as_json: bool) -> None:
    if as_json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(doc)


def cmd_read(args: argparse.Namespace) -> int:
    """Read, verify and print one card (``--out``: also dump its raw files)."""
    if args.evidence and args.out is None:
        raise UsageError("--evidence needs --out DIR")
    if args.out is not None:
        check_out_dir(args.out)
    keys = keys_from_args(args)
    settings = settings_from_args(args)
    with Kiosk(settings, link_kbps=link_kbps(args), demo_gateway=False) as kiosk:
        report, session = kiosk.read(keys, access=args.access, keep_log=args.evidence)
    if args.out is not None:
        write_dump(args.out, report.result, session if args.evidence else None)
    report.require_holder_data()  # after the dump: the raw files help find out why
    _print(report.to_json() if args.json else report.to_text(), args.json)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-verify a dump: PA against ``--trust`` (or the config's ``[trust] paths``; a dump is
    never checked against the demo CSCA unless asked with ``--trust demo``), AA from the
    recorded challenge/response. Exit 0 verified, 3 issuer unknown, 4 failed."""
    settings = resolve(args.config, None)
    paths = list(args.trust) or list(settings.config.trust.paths)
    origin = "--trust" if args.trust else settings.trust_origin
    paths += pinned.pinned_paths(data_folder(settings))  # what `trust add` pinned
    trust = load_trust_store(paths, demo=False, origin=origin)
    report = verify_dump(args.dir, trust)
    _print(report.to_json() if args.json else report.to_text(), args.json)
    return report.exit_code


def cmd_trust(args: argparse.Namespace) -> int:
    """``trust add FILE --sha256 FP`` / ``trust list`` / ``trust remove FP``: the pinned trust
    in the data folder (``kiosk.app.pinned``), used by every command and the kiosk."""
    folder = data_folder(resolve(args.config, Overrides(data_dir=args.data_dir)))
    if args.trust_command == "add":
        entry = pinned.add(folder, args.file, args.sha256)
        record_in(folder, "settings.trust", target=entry.fingerprint, change="add")
        print(f"Đã ghim / Pinned: {entry.kind} {entry.fingerprint} ({entry.source})")
    elif args.trust_command == "remove":
        entry = pinned.remove(folder, args.fingerprint)
        record_in(folder, "settings.trust", target=entry.fingerprint, change="remove")
        print(f"Đã bỏ ghim / Unpinned: {entry.kind} {entry.fingerprint} ({entry.source})")
    elif args.trust_command == "fetch-crl":
        results = pinned.fetch_crls(folder, timeout=args.timeout)
        doc = [dataclasses.asdict(r) for r in results]
        _print(doc if args.json else pinned.fetch_text(results), args.json)
        # A stale CRL is a note; a CRL that could not be fetched or verified is a failure.
        return EXIT_FAILED if any(r.status != "ok" for r in results) else EXIT_OK
    else:
        items = pinned.describe(folder)
        _print(items if args.json else pinned.describe_text(items), args.json)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Read sample card ``--card`` on the simulated reader with its CAN."""
    from kiosk.app.demo import sample_keys
    from kiosk.app.settings import Overrides

    settings = resolve(None, Overrides(reader=f"sim:{args.card}"))
    with Kiosk(settings, link_kbps=link_kbps(args), demo_gateway=False) as kiosk:
        keys = sample_keys(args.card)
        print(f"Thẻ mô phỏng / Simulated card: {args.card}", file=sys.stderr)
        report, _ = kiosk.read(keys)
    report.require_holder_data()
    _print(report.to_json() if args.json else report.to_text(), args.json)
    return EXIT_OK


def run_kiosk(config_path: Path | None, gui: GuiRunner | None = None) -> int:
    """No command (``make run``): the Qt kiosk on a display when ``gui`` is given, else the
    same check-in flow in the terminal. Without a config: the embedded default (simulated
    reader, gateway simulator on loopback, local storage)."""
    from kiosk.terminal import has_display, run_terminal

    if gui is not None and has_display():
        return gui(config_path)
    settings = resolve(config_path)
    if settings.path is not None:
        configure_logging(settings.config.logging)
    return run_terminal(settings, first_card=os.environ.get("CARD", ""))


def fail(exc: BaseException) -> int:
    """Print ``exc`` as the error table's one line; its exit code."""
    print(f"cccd-kiosk: {cli_line(exc)}", file=sys.stderr)
    return message_for(exc).exit_code


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "read": cmd_read,
    "verify": cmd_verify,
    "demo": cmd_demo,
    "trust": cmd_trust,
    **checkin_cli.HANDLERS,
    **admin_cli.HANDLERS,
    **doctor_cli.HANDLERS,
    **db_cli.HANDLERS,
    **display_cli.HANDLERS,
    **audit_cli.HANDLERS,
}


def main(argv: Sequence[str] | None = None, *, gui: GuiRunner | None = None) -> int:
    """Run ``cccd-kiosk``; returns the exit code (never raises but for argparse's exit)."""
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        if args.command is None:
            return run_kiosk(args.kiosk_config, gui)
        return HANDLERS[args.command](args)
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # every failure: one line from the error table, never a traceback
        return fail(exc)


if __name__ == "__main__":
    sys.exit(main())
