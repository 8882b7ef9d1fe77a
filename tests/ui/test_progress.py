"""One progress bar for the whole read, in patient words (ui.progress and the reading view)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kiosk.checkin import CheckInEvent
from kiosk.emrtd.passwords import CAN
from ui.progress import STEPS, advance, stage_of, stage_words
from ui.state import KioskState

#: The events a default-card read sends, in order (phase, done, total), files in two chunks.
READ = [
    ("EF.CardAccess", 0, 0),
    ("PACE", 1, 1),
    ("select", 0, 0),
    ("EF.SOD", 900, 1800),
    ("EF.SOD", 1800, 1800),
    ("EF.COM", 20, 20),
    ("DG1", 90, 90),
    ("DG2", 7000, 14000),
    ("DG2", 14000, 14000),
    ("DG13", 400, 800),
    ("DG13", 800, 800),
    ("DG14", 300, 300),
    ("DG15", 200, 200),
    ("CA", 0, 0),
    ("AA", 0, 0),
    ("PA", 0, 0),
]


def test_a_whole_read_fills_one_bar_once() -> None:
    """Per-file byte counts restart at zero for every file; the bar never does."""
    seen, pct = [], 0
    for phase, done, total in READ:
        pct = advance(pct, phase, done, total)
        seen.append(pct)
    # A step without bytes (PACE, CA, AA, PA) puts the bar at its start when it begins.
    assert seen == sorted(seen) and seen[-1] == 98 and advance(98, "PA", 1, 1) == 100
    assert seen[READ.index(("DG2", 14000, 14000))] == 78  # the photo is most of the read
    assert len(set(seen)) >= 12  # it moves at (almost) every step


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*STEPS, "DG11", "unknown"]),
            st.integers(-5, 50_000),
            st.integers(-5, 50_000),
        ),
        max_size=40,
    )
)
def test_the_bar_never_goes_back_or_past_the_end(events: list[tuple[str, int, int]]) -> None:
    pct = 0
    for phase, done, total in events:
        nxt = advance(pct, phase, done, total)
        assert pct <= nxt <= 100
        pct = nxt


def test_patient_words_have_no_icao_names_or_byte_counts() -> None:
    for lang in ("vi", "en"):
        for phase in STEPS:
            words = stage_words(stage_of(phase), lang)
            assert not re.search(r"PACE|BAC|DG\d|SOD|select|\bPA\b|\bAA\b|\bCA\b|byte|\d", words)
        assert stage_words(stage_of("DG2"), lang) != stage_words(stage_of("DG13"), lang)


def test_reception_sees_the_step_name_self_check_does_not() -> None:
    for mode in ("self", "reception"):
        s = KioskState(mode=mode)
        s.card_present([CAN("034517")])
        s.on_event(CheckInEvent("reading", "PACE", 1, 2))
        view = s.view()
        assert view.progress is not None and view.progress[2] == 100
        assert ("PACE" in view.extra.get("detail", "")) == (mode == "reception")
        assert "PACE" not in view.progress[0]
