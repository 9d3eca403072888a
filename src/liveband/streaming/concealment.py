"""Concealment of late blocks in a live session: what the listener hears instead of a miss.

A block that misses its deadline was needed before it existed, so it is never played. In its
place: the last played block mirrored in time (it starts on the very sample where playback
stopped, so there is no step) under a raised-cosine fade-out of ``fade`` samples, then silence;
the next on-time block starts with a fade-in of the same length.
"""

from __future__ import annotations

import numpy as np


class Concealment:
    """Chooses the block to play for each frame; holds the last played block (C, hop)."""

    def __init__(self, channels: int, hop: int, fade: int):
        cosine = np.cos(np.pi * np.arange(min(fade, hop)) / fade)
        self._fade_in = (0.5 - 0.5 * cosine).astype(np.float32)                     # from 0 up
        self._fade_out = np.zeros(hop, np.float32)                                  # from 1 down, then 0
        self._fade_out[: cosine.size] = 0.5 + 0.5 * cosine
        self.last_played = np.zeros((channels, hop), np.float32)
        self.concealed = np.zeros((channels, hop), np.float32)
        self._after_miss = False

    def play(self, block: np.ndarray, late: bool) -> np.ndarray:
        """The block to play for a frame whose model output is ``block`` (C, hop), late or not;
        the returned array is ``last_played`` (overwritten by the next call)."""
        if late:
            np.multiply(self.last_played[:, ::-1], self._fade_out, out=self.concealed)
            block = self.concealed
            self._after_miss = True
        elif self._after_miss:
            block = block.copy()
            block[:, : self._fade_in.size] *= self._fade_in
            self._after_miss = False
        self.last_played[:] = block
        return self.last_played
