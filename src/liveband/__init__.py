"""LiveBand: real-time accompaniment generation in the latent space of a causal autoencoder."""

import os

# OpenMP threads that spin while waiting make every torch op crawl when the machine is shared
# (measured: an autoencoder training step at 0.5 s with passive waits, 5-12 s with spinning,
# on 2 cores with one other busy process). Set before torch loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
