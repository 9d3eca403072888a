"""LiveBand: real-time accompaniment generation in the latent space of a causal autoencoder."""

__version__ = "0.1.0"
