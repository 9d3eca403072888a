"""The page's audio files: spectrograms show where the energy is, on one fixed scale; clips are
levelled mono Ogg Vorbis; the size budget is a one-line error."""

import numpy as np
import pytest
import soundfile as sf

from liveband.companion import clips
from liveband.errors import LiveBandError

SR = 22050


def tone(hz: float, amp: float, seconds: float = 10.0) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * hz * np.arange(int(SR * seconds)) / SR)).astype(np.float32)


def test_spectrogram_places_a_tone_and_keeps_one_scale():
    image = clips.spectrogram(tone(2000.0, 0.5), SR)
    assert image.shape == clips.SPEC_SIZE
    row = int(np.argmax(image.mean(axis=1)))                      # row 0 is the top (8 kHz)
    hz = (clips.SPEC_SIZE[0] - 1 - row + 0.5) / clips.SPEC_SIZE[0] * clips.SPEC_MAX_HZ
    assert abs(hz - 2000.0) < clips.SPEC_MAX_HZ / clips.SPEC_SIZE[0] * 2.5  # rows of ~5-6 STFT bins
    assert image.max() > 0.85                                     # -6 dBFS tone: near the top of the scale
    quiet = clips.spectrogram(tone(2000.0, 0.005), SR)
    assert 0.3 < quiet.max() < image.max() - 0.4                  # 40 dB lower: half the 80 dB range lower
    assert clips.spectrogram(np.zeros(SR, np.float32), SR).max() == 0.0


def test_clip_is_levelled_mono_vorbis(tmp_path):
    rule = clips.Level(lufs=-23.0, peak_dbfs=-1.0, fade_seconds=0.02, stem_offset_db=5.0)
    stereo = np.stack([tone(440.0, 0.9), tone(440.0, 0.9)])
    audio = clips.level(stereo, SR, rule)
    assert audio.ndim == 1 and np.abs(audio).max() <= 10 ** (-1 / 20) + 1e-6 and abs(audio[0]) < 1e-3
    clips.write_ogg(tmp_path / "a.ogg", audio, SR)
    info = sf.info(str(tmp_path / "a.ogg"))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("OGG", "VORBIS", 1, SR)
    assert (tmp_path / "a.ogg").stat().st_size < audio.size * 2 / 4  # well under 16-bit PCM


def test_budget(tmp_path, monkeypatch):
    (tmp_path / "x.bin").write_bytes(b"0" * 20_000)
    assert clips.check_budget(tmp_path, "results/companion") == pytest.approx(0.02)
    monkeypatch.setattr(clips, "BUDGET_MB", 0.01)
    with pytest.raises(LiveBandError, match=r"^results/companion: .* MB of audio and spectrograms exceeds the page.s"):
        clips.check_budget(tmp_path, "results/companion")
