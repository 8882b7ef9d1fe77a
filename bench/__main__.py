"""Run every benchmark: ``python -m bench [NAME ...]``."""

from __future__ import annotations

import sys

from bench import (
    auth_bench,
    cache_bench,
    checkin_bench,
    display_bench,
    ops_bench,
    outbox_bench,
    pcsc_bench,
    pin_bench,
    read_bench,
    storage_bench,
    ui_bench,
)

BENCHES = {"read": read_bench.main, "auth": auth_bench.main, "pcsc": pcsc_bench.main}
BENCHES["cache"] = cache_bench.main  # eligibility cache at 1 M entries (issue 5 §8)
BENCHES["outbox"] = outbox_bench.main  # outbox drain to a local HIS receiver (issue 5 §8)
BENCHES["checkin"] = checkin_bench.main  # tap→result vs max(card, gateway) (issue 5 §8)
BENCHES["ui"] = ui_bench.main  # Qt kiosk cold start and RSS over 100 check-ins (issue 6 §7)
BENCHES["pin"] = pin_bench.main  # one operator-PIN guess: scrypt vs SHA-256 (issue 10)
BENCHES["storage"] = storage_bench.main  # N kiosks on one PostgreSQL vs SQLite (issue 13)
BENCHES["display"] = display_bench.main  # desk call → calling display's stream (issue 13)
BENCHES["ops"] = ops_bench.main  # status scrape, doctor run, audit append (issue 14)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    for name in names:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
