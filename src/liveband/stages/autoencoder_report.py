"""Stage `autoencoder_report`: reconstruction quality on the test split, beside trivial references.

References show what the numbers mean: silence, the input low-passed at
``autoencoder_report.lowpass_hz``, and the autoencoder's own decoding of its latents in a
shuffled frame order (right content, wrong time). Also checks, on one excerpt, that the
streaming encode/decode path gives the offline result. Outputs ``results/autoencoder.json``
(DVC metrics), ``results/autoencoder.{csv,md,tex}`` and ``results/figures/autoencoder_curves.png``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from liveband.builders import autoencoder_config, load_autoencoder
from liveband.config import Params
from liveband.data.audio_crops import read_window
from liveband.data.audio_io import to_channels
from liveband.data.slakh import read_index
from liveband.errors import LiveBandError
from liveband.evaluation.degradations import lowpass
from liveband.losses.spectral import multi_resolution_stft_distance
from liveband.metrics.sisdr import si_sdr
from liveband.reports.plots import plot_curves
from liveband.reports.tables import write_table
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json
from liveband.utils.checkpoint import load_checkpoint
from liveband.utils.chunks import cycled_slices

log = logging.getLogger("liveband.autoencoder_report")
RESULTS = Path("results")


def test_excerpts(index: pd.DataFrame, n: int, seconds: float, sr: int, channels: int, seed: int) -> torch.Tensor:
    """(n, C, T) excerpts from the test split, alternating single stems and full mixes."""
    rng = np.random.default_rng(seed)
    tracks = list(index[index.split == "test"].groupby("track", sort=True))
    if not tracks:
        raise LiveBandError("index: the test split is empty")
    out = []
    for k in range(n):
        _, track = tracks[rng.integers(len(tracks))]
        start = float(rng.uniform(0, max(0.0, track.duration_s.min() - seconds)))
        root = Path(track.root.iloc[0])
        if k % 2 == 0:
            row = track.iloc[rng.integers(len(track))]
            audio = read_window(root / row.stem_path, start, seconds, sr)
        else:
            audio = read_window(root / track.mix_path.iloc[0], start, seconds, sr)
        out.append(to_channels(audio, channels))
    return torch.from_numpy(np.stack(out))


@torch.inference_mode()
def streaming_gap(model, audio: torch.Tensor, offline: torch.Tensor) -> float:
    """Max |streaming - offline| over one excerpt, encoded in odd-sized chunks, decoded frame by frame."""
    enc, dec = model.stream_encoder(1), model.stream_decoder(1)
    latents = torch.cat([enc.push(audio[..., s]) for s in cycled_slices(audio.shape[-1], [777, 1500, 3001])],
                        dim=-1)
    out = torch.cat([dec.push(latents[..., k:k + 1]) for k in range(latents.shape[-1])], dim=-1)
    return float((out - offline[..., : out.shape[-1]]).abs().max())


def run(params: Params, args: argparse.Namespace) -> None:
    cfg = autoencoder_config(params)
    model = load_autoencoder("artifacts/autoencoder/model.pt", expect=cfg)
    rep, sr = params.autoencoder_report, params.audio.sample_rate
    frames = max(1, int(rep.seconds * sr / params.audio.hop))
    audio = test_excerpts(read_index("artifacts/data/index.csv"), rep.n_examples,
                          frames * params.audio.hop / sr, sr, params.audio.channels, rep.seed)
    with torch.inference_mode():
        latents = model.encode(audio)
        recon = model.decode(latents)
        g = torch.Generator().manual_seed(rep.seed)
        shuffled = model.decode(latents[..., torch.randperm(latents.shape[-1], generator=g)])
    candidates = {
        "autoencoder": recon,
        "silence": torch.zeros_like(audio),
        f"low-pass {rep.lowpass_hz:g} Hz": torch.from_numpy(lowpass(audio.numpy(), rep.lowpass_hz, sr)),
        "autoencoder, shuffled frames": shuffled,
    }
    rows = []
    for name, estimate in candidates.items():
        sdr = si_sdr(estimate.flatten(1), audio.flatten(1))
        stft = multi_resolution_stft_distance(estimate, audio)
        rows.append({"reconstruction": name, "SI-SDR [dB]": round(float(sdr.mean()), 2),
                     "SI-SDR median [dB]": round(float(sdr.median()), 2),
                     "MR-STFT distance": round(float(stft.mean()), 4)})
    table = pd.DataFrame(rows)
    gap = streaming_gap(model, audio[:1], recon[:1])
    payload = load_checkpoint("artifacts/autoencoder/model.pt", kind="autoencoder")
    caption = (f"Autoencoder reconstruction on {rep.n_examples} test excerpts of {frames} latent frames "
               f"({frames * params.audio.hop / sr:.1f} s; half single stems, half mixes), profile "
               f"'{params.profile}'. Streaming vs offline max abs difference: {gap:.2e}. The MR-STFT "
               "distance is the measure to read: the encoder sees magnitudes only, so the decoder synthesises "
               "its own phase and SI-SDR, a waveform measure, cannot credit it (silence scores 0 dB only "
               "because SI-SDR's least-squares gain makes an all-zero estimate's error vanish).")
    write_table(table, RESULTS / "autoencoder", caption)
    metrics = {r["reconstruction"]: {k: v for k, v in r.items() if k != "reconstruction"} for r in rows}
    metrics["streaming_vs_offline_max_abs"] = gap
    metrics["train_seconds"] = payload.get("train_seconds")
    metrics["train_steps"] = payload.get("step")
    write_json(RESULTS / "autoencoder.json", metrics)
    plot_curves(RESULTS / "autoencoder" / "curve.csv", ["loss", "stft", "l1"],
                RESULTS / "figures" / "autoencoder_curves.png", "Autoencoder training", log_y=True)
    log.info("\n%s", table.to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    return run_stage("autoencoder_report", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
