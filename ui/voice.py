"""Spoken prompts for self-check: each step and every error said aloud, in the screen's
language, with a repeat button and a volume that goes back to the configured one for the next
patient (accessibility: patients who cannot read the screen well).

Three parts, each replaceable:

- :func:`prompt_for` — what to say for a screen, built from the same :class:`ScreenView`
  the screen shows (so the words never drift from the screen) but **never personal data**:
  no name, ID or birth date is ever spoken in a waiting room; the result says "checked in",
  the insurance status and the queue number only.
- the engine — :class:`kiosk.voice.Voice` (espeak-ng's Vietnamese and English voices by
  default, the same component the calling display uses), text → WAV bytes;
- the player — a command that plays a WAV from its standard input (``[voice] player``,
  default ``aplay -q -``, ALSA's player from Debian's ``alsa-utils``; ``paplay`` or ``pw-play``
  work too). :func:`scale_volume` applies the volume to the samples, so any player will do.

:class:`Speaker` runs engine and player on one daemon thread: saying something new drops
what has not started yet, so a patient tapping through screens hears the current one, and
the GUI thread never waits for sound.
"""

from __future__ import annotations

import array
import collections
import io
import logging
import shlex
import subprocess
import sys
import threading
import wave
from collections.abc import Sequence

from kiosk.voice import EspeakVoice, Voice, VoiceError
from ui.state import ScreenView
from ui.strings import Lang

log = logging.getLogger(__name__)

#: How many played prompts :attr:`Speaker.spoken` remembers.
SPOKEN_KEPT = 50
#: Seconds one prompt may play.
PLAY_TIMEOUT_S = 30.0
#: Icons and marks the screens draw that a voice must not read out.
_SYMBOLS = str.maketrans({c: " " for c in "✔✘⚠○●•?🔊"})


def _clean(text: str) -> str:
    return " ".join(text.translate(_SYMBOLS).split()).strip(" .:—-")


def _join(*parts: str) -> str:
    said = [p for p in (_clean(x) for x in parts) if p]
    return ". ".join(said) + ("." if said else "")


def prompt_for(view: ScreenView) -> str:
    """The sentence for ``view`` ("" for screens that say nothing: staff screens).

    Only the words a screen shows for guidance are used: titles, instructions, the queue
    number, the insurance status; holder lines (``view.lines``) and the photo never.
    """
    screen = view.screen
    if screen in ("idle", "key_needed", "error", "number", "department", "birth_date"):
        number = f"{view.queue}" if screen == "number" and view.queue else ""
        return _join(view.title, number, view.body)
    if screen in ("reading", "verifying"):
        return _join(view.title)
    if screen == "result":
        elig = view.eligibility[:2]
        return _join(view.title, view.queue, *elig)
    return ""


def scale_volume(wav_bytes: bytes, volume: int) -> bytes:
    """``wav_bytes`` (16-bit PCM) with every sample multiplied by ``volume``/100 (0–100);
    other sample widths are returned as they are."""
    volume = max(0, min(100, volume))
    with wave.open(io.BytesIO(wav_bytes), "rb") as src:
        params = src.getparams()
        frames = src.readframes(params.nframes)
    if params.sampwidth != 2 or volume == 100:
        return wav_bytes
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    for i, s in enumerate(samples):
        samples[i] = int(s * volume / 100)
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setparams(params)
        dst.writeframes(samples.tobytes())
    return out.getvalue()


class Speaker:
    """Says prompts on a background thread (see the module docstring).

    ``voices`` maps a language to its engine; ``player`` is the command line of the player.
    """

    def __init__(
        self,
        player: Sequence[str],
        *,
        voices: dict[str, Voice] | None = None,
        volume: int = 80,
    ) -> None:
        self.player = list(player)
        self.voices: dict[str, Voice] = voices or {
            "vi": EspeakVoice(voice="vi"),
            "en": EspeakVoice(voice="en"),
        }
        self.home_volume = volume
        self.volume = volume
        self._next: tuple[str, Lang] | None = None
        self._wake = threading.Condition()
        self._closed = False
        #: What was played, newest last (tests, diagnostics); bounded, the kiosk runs for days.
        self.spoken: collections.deque[str] = collections.deque(maxlen=SPOKEN_KEPT)
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    @classmethod
    def from_command(cls, command: str, *, volume: int = 80) -> Speaker:
        """A speaker whose player is ``command`` (split like a shell would, never run by one)."""
        return cls(shlex.split(command), volume=volume)

    def say(self, text: str, lang: Lang) -> None:
        """Say ``text`` next (replacing anything not yet started)."""
        if not text:
            return
        with self._wake:
            self._next = (text, lang)
            self._wake.notify()

    def reset(self) -> None:
        """The next patient: the configured volume again."""
        self.volume = self.home_volume

    def louder(self) -> int:
        """Cycle the volume up in three steps (then back to the quietest); the new volume."""
        steps = (50, 80, 100)
        self.volume = next((s for s in steps if s > self.volume), steps[0])
        return self.volume

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._next is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                assert self._next is not None
                (text, lang), self._next = self._next, None
            try:
                self._play(text, lang)
            except (VoiceError, OSError, subprocess.SubprocessError, wave.Error) as exc:
                log.warning("voice prompt not played: %s", type(exc).__name__)

    def _play(self, text: str, lang: Lang) -> None:
        voice = self.voices.get(lang) or self.voices["vi"]
        sound = scale_volume(voice.wav(text), self.volume)
        subprocess.run(self.player, input=sound, timeout=PLAY_TIMEOUT_S, check=True)
        self.spoken.append(text)
