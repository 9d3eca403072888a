"""Per-stem timbre variation of the synthetic set, so models do not learn one soundfont.

A draw (a plain dict, kept in the stem's metadata) holds an EQ of three biquads (RBJ low
shelf, peak, high shelf), a gain, a synthetic reverb (exponentially decaying noise impulse
response, mixed wet/dry) and a detune that the renderer applies in the synthesiser. Every
filter is causal and the reverb's impulse response starts with the dry path at lag 0, so no
onset moves; nothing is resampled.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

SHELF_LOW_HZ = (80.0, 400.0)
PEAK_HZ = (300.0, 4000.0)
SHELF_HIGH_HZ = (2500.0, 8000.0)


def draw_timbre(rng: np.random.Generator, params) -> dict:
    """One stem's random timbre from ``params`` (config ``data.synthetic.timbre``)."""
    def spread(x: float) -> float:
        return round(float(rng.uniform(-x, x)), 3)

    def log_uniform(lo: float, hi: float) -> float:
        return round(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))), 1)

    return {
        "eq": [
            {"kind": "lowshelf", "hz": log_uniform(*SHELF_LOW_HZ), "db": spread(params.eq_db), "q": 0.7},
            {"kind": "peak", "hz": log_uniform(*PEAK_HZ), "db": spread(params.eq_db),
             "q": round(float(rng.uniform(0.5, 2.0)), 3)},
            {"kind": "highshelf", "hz": log_uniform(*SHELF_HIGH_HZ), "db": spread(params.eq_db), "q": 0.7},
        ],
        "gain_db": spread(params.gain_db),
        "reverb_wet": round(float(rng.uniform(*params.reverb_wet)), 3),
        "reverb_decay_s": round(float(rng.uniform(*params.reverb_decay_s)), 3),
        "reverb_seed": int(rng.integers(0, 2**31)),
        "detune_cents": spread(params.detune_cents),
    }


def biquad(kind: str, hz: float, db: float, q: float, sr: int) -> np.ndarray:
    """One second-order section (RBJ audio-EQ cookbook) as a row of scipy's ``sos``."""
    a_gain = 10.0 ** (db / 40.0)
    w0 = 2 * np.pi * min(hz, 0.45 * sr) / sr
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a_gain, -2 * cos, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos, 1 - alpha / a_gain]
    else:
        sq, sign = 2 * np.sqrt(a_gain) * alpha, 1.0 if kind == "lowshelf" else -1.0
        ap, am = a_gain + 1, a_gain - 1
        b = [a_gain * (ap - sign * am * cos + sq), 2 * sign * a_gain * (am - sign * ap * cos),
             a_gain * (ap - sign * am * cos - sq)]
        a = [ap + sign * am * cos + sq, -2 * sign * (am + sign * ap * cos), ap + sign * am * cos - sq]
    return np.concatenate([b, a]) / a[0]


def reverb_ir(decay_s: float, seed: int, sr: int) -> np.ndarray:
    """Unit-energy noise decaying by 60 dB over ``decay_s``, its first sample silent (the dry
    path carries the attack)."""
    n = max(2, int(decay_s * sr))
    noise = np.random.default_rng(seed).standard_normal(n)
    ir = noise * 10.0 ** (-3.0 * np.arange(n) / n)
    ir[0] = 0.0
    return ir / np.sqrt(np.sum(ir ** 2))


def apply_timbre(audio: np.ndarray, sr: int, draw: dict) -> np.ndarray:
    """EQ, then reverb (wet/dry), of mono ``audio``; same length, causal. The gain and the
    detune of ``draw`` are applied elsewhere (after loudness balancing; in the synthesiser)."""
    sos = np.stack([biquad(b["kind"], b["hz"], b["db"], b["q"], sr) for b in draw["eq"]])
    dry = signal.sosfilt(sos.astype(np.float32), audio.astype(np.float32))
    wet = np.float32(draw["reverb_wet"])
    if wet > 0:
        ir = reverb_ir(draw["reverb_decay_s"], draw["reverb_seed"], sr).astype(np.float32)
        tail = signal.fftconvolve(dry, ir)[:len(dry)]
        dry = (1 - wet) * dry + wet * tail
    return dry.astype(np.float32)
