"""Speaking announcements ("Mời số 15 đến phòng 203") as WAV bytes: one voice for the kiosk
and the calling display.

:class:`Voice` is the port (text → WAV bytes); :class:`EspeakVoice` is the default, Debian's
``espeak-ng`` with its Vietnamese voice (``espeak-ng -v vi --stdout``), run as a child
process with the text as an argument (never through a shell) and a time limit. Another
engine plugs in by implementing :class:`Voice`. Qt-free and free of the rest of the project.

``espeak-ng --stdout`` cannot seek back, so its WAV header says "unknown length"
(0x7fffffff); :func:`fix_wav_sizes` writes the real sizes so every player (a browser's
``<audio>`` included) knows the duration.

Errors: :class:`VoiceUnavailable` when the engine or its Vietnamese voice is missing (install
``espeak-ng``), :class:`VoiceFailed` when it ran but gave no usable sound.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import unicodedata
from typing import Protocol

#: The longest sentence spoken (an announcement is a few words).
MAX_TEXT = 200
#: Seconds the engine may take for one sentence.
TIMEOUT_S = 10.0


class VoiceError(Exception):
    """The announcement could not be spoken."""


class VoiceUnavailable(VoiceError):
    """No speech engine (or no Vietnamese voice) on this machine: install espeak-ng."""


class VoiceFailed(VoiceError):
    """The speech engine ran but gave no usable WAV."""


class Voice(Protocol):
    """Text → a WAV file's bytes."""

    def wav(self, text: str) -> bytes:
        """Speak ``text``; raises :class:`VoiceError`."""
        ...


def fix_wav_sizes(data: bytes) -> bytes:
    """``data`` (a RIFF/WAVE file) with its RIFF and ``data`` chunk sizes set to what is
    really there. Raises :class:`VoiceFailed` when it is not a WAV with a data chunk."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise VoiceFailed("the speech engine's output is not a WAV file")
    out = bytearray(data)
    struct.pack_into("<I", out, 4, len(out) - 8)
    pos = 12
    while pos + 8 <= len(out):
        chunk = bytes(out[pos : pos + 4])
        size = struct.unpack_from("<I", out, pos + 4)[0]
        if chunk == b"data":
            real = len(out) - pos - 8
            struct.pack_into("<I", out, pos + 4, real)
            if real == 0:
                raise VoiceFailed("the speech engine gave no sound")
            return bytes(out)
        pos += 8 + size + (size & 1)
    raise VoiceFailed("the speech engine's WAV has no data")


class EspeakVoice:
    """:class:`Voice` through ``espeak-ng`` (``voice`` "vi": Northern Vietnamese; ``speed``
    in words per minute, a little slower than espeak's 175 for a waiting room)."""

    def __init__(self, *, binary: str = "espeak-ng", voice: str = "vi", speed: int = 140) -> None:
        self.binary = binary
        self.voice = voice
        self.speed = speed

    def _path(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise VoiceUnavailable(f"{self.binary} is not installed (Debian package espeak-ng)")
        return path

    def check(self) -> None:
        """Raise :class:`VoiceUnavailable` unless the engine and its voice are there."""
        path = self._path()
        try:
            out = subprocess.run(
                [path, f"--voices={self.voice}"],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceUnavailable(f"{self.binary} does not start ({type(exc).__name__})") from exc
        listed = out.stdout.decode("utf-8", "replace").split()
        if self.voice not in listed and f"aav/{self.voice}" not in listed:
            raise VoiceUnavailable(f"{self.binary} has no {self.voice!r} voice")

    def wav(self, text: str) -> bytes:
        """Speak ``text`` (NFC, one line, at most 200 characters) as WAV bytes."""
        text = " ".join(unicodedata.normalize("NFC", text).split())
        if not text or len(text) > MAX_TEXT:
            raise ValueError("an announcement is 1 to 200 characters")
        path = self._path()
        try:
            out = subprocess.run(
                [path, "-v", self.voice, "-s", str(self.speed), "--stdout", "--", text],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise VoiceFailed(f"{self.binary} took longer than {TIMEOUT_S:g} s") from exc
        except OSError as exc:
            raise VoiceUnavailable(f"{self.binary} does not start ({type(exc).__name__})") from exc
        if out.returncode != 0:
            raise VoiceFailed(f"{self.binary} failed (exit {out.returncode})")
        return fix_wav_sizes(out.stdout)
