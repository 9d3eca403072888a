"""Concealment: a late block becomes the last played block mirrored under a fade-out; then a fade-in."""

import numpy as np

from liveband.streaming.concealment import Concealment


def test_late_block_is_the_mirrored_last_block_fading_out_then_the_next_fades_in():
    conceal = Concealment(channels=1, hop=8, fade=4)
    first = np.arange(1.0, 9.0, dtype=np.float32)[None]  # (1, 8)
    assert np.array_equal(conceal.play(first, late=False), first)  # on time: played as is
    played = conceal.play(np.full((1, 8), 99.0, np.float32), late=True).copy()
    assert played[0, 0] == 8.0  # starts on the sample where playback stopped, no step
    assert np.all(np.diff(played[0, :4]) < 0) and not played[0, 4:].any()  # fades out, then silence
    after = conceal.play(np.ones((1, 8), np.float32), late=False)
    assert after[0, 0] == 0.0 and np.all(np.diff(after[0, :4]) > 0) and np.all(after[0, 4:] == 1.0)
    assert np.all(conceal.play(np.ones((1, 8), np.float32), late=False) == 1.0)  # one fade-in only
