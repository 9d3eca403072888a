"""Audio through the autoencoder and back: the codec ceiling of evaluation, and the decoder
artefacts COCOLA-local learns to ignore."""

from __future__ import annotations

import numpy as np
import torch

from liveband.models.autoencoder import CausalAutoencoder


@torch.inference_mode()
def round_trip(autoencoder: CausalAutoencoder, audio: np.ndarray) -> np.ndarray:
    """(C, T) audio at the autoencoder's rate, encoded and decoded, zero-padded back to T samples
    (a trailing partial hop is not coded)."""
    out = autoencoder.decode(autoencoder.encode(torch.from_numpy(np.ascontiguousarray(audio))[None]))[0].numpy()
    return np.pad(out, ((0, 0), (0, audio.shape[-1] - out.shape[-1])))
