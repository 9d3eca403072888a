"""Rendering through the soundfont: detune retunes the synthesiser without moving notes."""

import numpy as np

from liveband.data.render import default_soundfont, render_part
from liveband.data.song import Note, Part

SR = 22050


def _peak_hz(y):
    seg = y[int(0.7 * SR):int(1.7 * SR)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 8 * len(seg)))
    return np.fft.rfftfreq(8 * len(seg), 1 / SR)[np.argmax(spec)]


def test_detune_moves_pitch_not_time():
    sf = default_soundfont().read_bytes()
    part = Part("Synth Lead", 80, False, [Note(0.5, 1.8, 69, 100)])  # A4, a square lead
    plain, sharp = render_part(part, 2.5, SR, sf), render_part(part, 2.5, SR, sf, detune_cents=20.0)
    assert len(plain) == len(sharp)
    assert \
        abs(_peak_hz(sharp) / _peak_hz(plain) - 2 ** (20 / 1200)) < 0.002
    onset = [int(np.argmax(np.abs(y) > 0.1 * np.abs(y).max())) for y in (plain, sharp)]
    assert abs(onset[0] - onset[1]) <= SR // 1000 and abs(onset[0] - int(0.5 * SR)) <= SR // 1000
