"""Spoken prompts at the self-check kiosk: the words (never personal data), the volume, a
real speech engine (espeak-ng) and a real player process."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import array
import io
import shlex
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.config import Config, ReaderConfig, VoiceConfig
from kiosk.voice import EspeakVoice, VoiceUnavailable
from simulators.card.profile import load_profile
from tests import ROOT
from ui.app import KioskWindow, build_window
from ui.voice import Speaker, prompt_for, scale_volume

sys.path.insert(0, str(ROOT / "scripts"))
import screenshots

WAIT_MS = 20_000


def _espeak() -> EspeakVoice:
    voice = EspeakVoice(voice="vi")
    try:
        voice.check()
    except VoiceUnavailable as exc:  # bootstrap installs espeak-ng (VOICE_DEBS)
        pytest.fail(f"espeak-ng with a Vietnamese voice is needed: {exc}")
    return voice


def _recorder(folder: Path) -> list[str]:
    """A real player process: it writes each WAV it is given into ``folder``."""
    script = (
        "import sys, pathlib, time; d = pathlib.Path(sys.argv[1]); "
        "(d / f'{time.monotonic_ns()}.wav').write_bytes(sys.stdin.buffer.read())"
    )
    return [sys.executable, "-c", script, str(folder)]


def _peak(wav_bytes: bytes) -> int:
    with wave.open(io.BytesIO(wav_bytes), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    return max(abs(s) for s in samples)


def test_every_self_check_prompt_guides_without_personal_data(
    qtbot: QtBot, tmp_path: Path, outcome: Any
) -> None:
    window, _ = build_window(
        Config(reader=ReaderConfig("sim:default")), data_dir=tmp_path, demo_gateway=False
    )
    qtbot.addWidget(window)
    person = load_profile("default").person
    private = (
        person.full_name,
        person.id_number,
        person.id_number[-4:],
        f"{person.date_of_birth:%d/%m/%Y}",
    )
    steps = screenshots._steps(window, outcome)
    said = {}
    try:
        for screen in screenshots.screens_of("self"):
            window.state.wipe()
            steps[screen]()
            said[screen] = prompt_for(window.state.view())
    finally:
        window.state.wipe()
        window.close()
    for screen, text in said.items():
        assert text, screen  # every self-check step says something
        assert not any(p in text for p in private), (screen, text)
        assert not any(c in text for c in "✔✘⚠•"), text  # no icons read out
    assert "Đặt thẻ" in said["idle"]
    assert "Số thứ tự" in said["result"] and "Thẻ BHYT hợp lệ" in said["result"]
    assert "Đặt lại thẻ" in said["error"]  # the patient's next step
    assert outcome.queue_number and str(outcome.queue_number) in said["number"]


def test_the_volume_scales_the_samples_of_a_real_espeak_wav() -> None:
    loud = _espeak().wav("Xin mời đặt thẻ căn cước lên đầu đọc")
    quiet = scale_volume(loud, 50)
    assert _peak(loud) > 1000
    assert abs(_peak(quiet) - _peak(loud) // 2) <= 1
    assert scale_volume(loud, 100) == loud and _peak(scale_volume(loud, 0)) == 0


def test_the_speaker_plays_through_a_player_process_and_resets_its_volume(
    tmp_path: Path,
) -> None:
    _espeak()
    speaker = Speaker(_recorder(tmp_path), volume=50)
    try:
        speaker.say("Xin chào", "vi")
        for _ in range(200):
            if speaker.spoken:
                break
            import time

            time.sleep(0.05)
        assert list(speaker.spoken) == ["Xin chào"]
        (played,) = tmp_path.glob("*.wav")
        data = played.read_bytes()
        assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and _peak(data) > 100
        assert speaker.louder() == 80 and speaker.louder() == 100 and speaker.louder() == 50
        speaker.louder()
        speaker.reset()
        assert speaker.volume == 50
    finally:
        speaker.close()


def _voiced_window(qtbot: QtBot, tmp_path: Path) -> KioskWindow:
    player = shlex.join(_recorder(tmp_path / "played"))
    (tmp_path / "played").mkdir()
    config = Config(
        reader=ReaderConfig("sim:default"), voice=VoiceConfig(enabled=True, player=player)
    )
    window, _ = build_window(config, data_dir=tmp_path / "data", demo_gateway=True)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def test_the_kiosk_speaks_each_step_repeats_and_resets_per_patient(
    qtbot: QtBot, tmp_path: Path
) -> None:
    _espeak()
    window = _voiced_window(qtbot, tmp_path)
    speaker = window.speaker
    assert speaker is not None and window.repeat_button.isVisible()
    try:
        qtbot.waitUntil(lambda: any("Đặt thẻ" in s for s in speaker.spoken), timeout=WAIT_MS)
        qtbot.mouseClick(window.volume_button, Qt.MouseButton.LeftButton)
        assert speaker.volume == 100 and "100" in window.volume_button.text()
        tester = window.tester
        assert tester is not None
        qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.state.screen == "result", timeout=WAIT_MS)
        qtbot.waitUntil(lambda: any("Số thứ tự" in s for s in speaker.spoken), timeout=WAIT_MS)
        count = len(speaker.spoken)
        qtbot.mouseClick(window.repeat_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(speaker.spoken) > count, timeout=WAIT_MS)
        assert "Số thứ tự" in speaker.spoken[-1]
        name = load_profile("default").full_name
        assert not any(name in s for s in speaker.spoken)
        window.state.wipe()  # the patient is done: the next one starts at the configured volume
        assert speaker.volume == 80
    finally:
        window.close()
