"""The voice: Debian's espeak-ng speaking Vietnamese to WAV bytes, and the display serving it."""

from __future__ import annotations

import io
import shutil
import struct
import threading
import wave

import httpx
import pytest

from kiosk.app.calling import announcement_text
from kiosk.app.kiosk import Kiosk
from kiosk.voice import EspeakVoice, VoiceFailed, VoiceUnavailable, fix_wav_sizes
from tests.display.conftest import check_in_everyone, serve

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng missing (scripts/bootstrap.sh VOICE_DEBS)"
)


def _duration(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getnframes() / w.getframerate()


def test_announcement_sentences() -> None:
    assert announcement_text(15, "203") == "Mời số 15 đến phòng 203"
    assert announcement_text(7, "") == "Mời số 7"
    assert announcement_text(15, "203", "en") == "Number 15, please go to room 203"


@needs_espeak
def test_espeak_speaks_vietnamese_as_a_wav_with_real_sizes() -> None:
    voice = EspeakVoice()
    voice.check()
    data = voice.wav("Mời số 15 đến phòng 203")
    riff_size = struct.unpack_from("<I", data, 4)[0]
    assert riff_size == len(data) - 8  # not espeak's "unknown length" 0x7fffffff
    seconds = _duration(data)
    assert 0.8 < seconds < 10  # a sentence, not silence and not garbage
    longer = voice.wav("Mời số 15 đến phòng 203, Khoa Nội, tầng hai")
    assert _duration(longer) > seconds  # more words, more sound


def test_a_missing_engine_or_voice_is_voice_unavailable() -> None:
    with pytest.raises(VoiceUnavailable):
        EspeakVoice(binary="no-such-espeak-ng").wav("Mời số 1")
    with pytest.raises(VoiceUnavailable):
        EspeakVoice(binary="no-such-espeak-ng").check()
    if shutil.which("espeak-ng"):
        with pytest.raises(VoiceUnavailable):
            EspeakVoice(voice="xx-no-such-voice").check()


def test_text_is_bounded() -> None:
    with pytest.raises(ValueError):
        EspeakVoice().wav("  ")
    with pytest.raises(ValueError):
        EspeakVoice().wav("x" * 201)


def test_fix_wav_sizes_refuses_what_is_not_a_wav() -> None:
    with pytest.raises(VoiceFailed):
        fix_wav_sizes(b"not a wav at all")
    header = b"RIFF\xff\xff\xff\x7fWAVEfmt " + struct.pack("<I", 16) + bytes(16)
    with pytest.raises(VoiceFailed):  # a data chunk with no sound in it
        fix_wav_sizes(header + b"data\xff\xff\xff\x7f")
    fixed = fix_wav_sizes(header + b"data\xff\xff\xff\x7f" + b"\x01\x00" * 10)
    assert struct.unpack_from("<I", fixed, 40)[0] == 20


@needs_espeak
def test_the_display_serves_the_spoken_call(kiosk: Kiosk, display_kiosk: Kiosk) -> None:
    check_in_everyone(kiosk, "NHI")
    server = serve(display_kiosk, EspeakVoice())
    try:
        kiosk.call_next("NHI")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(400):
                doc = client.get("/api/board").json()
                if doc["departments"][1]["serving"]:
                    break
                threading.Event().wait(0.05)
            r = client.get("/api/announce/1.wav?department=NHI")
            assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
            assert _duration(r.content) > 0.8
    finally:
        server.stop()
