"""Render every stimulus of the kit: excerpts of the selected items under the four conditions of
both tests, plus the training, instructed-response and volume-check clips (see kit.py)."""

from __future__ import annotations

import numpy as np

from liveband.builders import load_autoencoder
from liveband.evaluation.systems import System
from liveband.evaluation.test_set import EvalExample, load_example, load_partner
from liveband.listening import stimuli
from liveband.listening.kit import Stimulus, tone_check


def render(examples: list[EvalExample], window_seconds: float, sr: int, channels: int, hop: int, lp, sampler,
           liveband_path: str, smg_path: str, autoencoder_path: str) -> list[Stimulus]:
    """All stimuli, in a fixed order. Models stream each song from its start over ``window_seconds``
    (batched, one seed per item); the excerpt is then cut from every version alike."""
    rng = np.random.default_rng(lp.seed)
    n, lead = int(round(lp.excerpt_seconds * sr)), int(round(lp.lead_seconds * sr))
    loaded = [load_example(ex, sr, channels, window_seconds) for ex in examples]
    partners = [load_partner(ex, sr, channels, window_seconds) for ex in examples]
    mixes, targets = [m for m, _ in loaded], [t for _, t in loaded]
    seeds = [lp.seed * 1000 + i for i in range(len(examples))]
    generated = {cond: System(cond, path).play_all(mixes, targets, partners, [ex.class_id for ex in examples],
                                                   seeds, sr)
                 for cond, path in (("liveband", liveband_path), ("smg", smg_path))}
    autoencoder = load_autoencoder(autoencoder_path)
    out: list[Stimulus] = []
    for i, ex in enumerate(examples):
        start = stimuli.excerpt_start(targets[i], mixes[i], hop, n, lead, sampler.silence_db,
                                      sampler.min_active_fraction, rng)
        p_start = stimuli.excerpt_start(partners[i], partners[i], hop, n, lead, sampler.silence_db,
                                        sampler.min_active_fraction, rng)
        cut = slice(start, start + n)
        stem = targets[i][:, cut]
        mix = mixes[i][:, cut]
        partner = partners[i][:, p_start:p_start + n]
        quality = {"ground_truth": stem, "liveband": generated["liveband"][i][:, cut],
                   "smg": generated["smg"][i][:, cut],
                   "anchor": stimuli.noisy_anchor(autoencoder, stem, lp.anchor_noise, seeds[i])}
        n_stems = len(ex.mix_stems) + 1
        adherence = {c: stimuli.adherence_mix(a if c != "anchor" else partner, mix, n_stems, sr, lp.stem_offset_db)
                     for c, a in quality.items()}
        for test, versions in (("quality", quality), ("adherence", adherence)):
            for cond in ("ground_truth", "liveband", "smg", "anchor"):
                is_partner = test == "adherence" and cond == "anchor"
                out.append(Stimulus(test, i, cond, versions[cond],
                                    ex.partner_track if is_partner else ex.track,
                                    ex.partner_stem if is_partner else ex.target_stem, ex.inst_class,
                                    (p_start if is_partner else start) / sr))
    first = [s for s in out if s.item == 0 and s.condition == "ground_truth"]
    for s in first:  # training clip of each test: the first item's reference, under its own token
        out.append(Stimulus(s.test, -1, "training", s.audio, s.track, s.stem, s.inst_class, s.start_seconds))
    last = next(s for s in out if s.item == len(examples) - 1 and s.test == "quality" and s.condition == "ground_truth")
    out.append(Stimulus("quality", -1, "instructed", last.audio, last.track, last.stem, last.inst_class,
                        last.start_seconds))
    out.append(Stimulus("quality", -1, "headphone_check", np.repeat(tone_check(sr, lp.excerpt_seconds), channels, 0)))
    return out
