"""SIMULATION: how many complete sessions give the paper's analysis 80% power to detect its own
LiveBand-vs-SMG differences (Table 4 means), per dimension, after Holm over the 6 pairwise tests.

Model (an assumption, stated wherever the result appears): a participant's underlying mean for
condition c on dimension d is ``mu[c, d] + sqrt(rho) sd z_p + sqrt(1 - rho) sd z_pc`` (z standard
normal: a participant-wide leniency shared by the conditions, correlation ``rho``, plus a
participant x condition part); each of ``n_items`` item ratings is that plus N(0, item_sd),
rounded and clipped to 1..5; the participant's mean over items enters the analysis. A
replicate detects the difference when Friedman's p < alpha, the Holm-adjusted Wilcoxon p of
LiveBand vs SMG < alpha, and the LiveBand mean is the higher.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from liveband.listening.schema import CONDITIONS, DIMENSIONS
from liveband.reports.paper_values import TABLE4
from liveband.stats.multiple import holm_reject_rows

# Table 4's rows in CONDITIONS order (ground_truth, liveband, smg, anchor).
PAPER_ROWS = {"ground_truth": "Ground truth", "liveband": "LiveBand (tau = 0.1)", "smg": "SMG (tau = 0)",
              "anchor": "Low anchor"}


def paper_means() -> np.ndarray:
    """(4 conditions, 4 dimensions) of the paper's Table 4 means."""
    return np.array([TABLE4[PAPER_ROWS[c]] for c in CONDITIONS], dtype=np.float64)


def simulate_sessions(mu, n: int, sd: float, rho: float, item_sd: float, n_items: int,
                      rng: np.random.Generator, n_sim: int = 1) -> np.ndarray:
    """(n_sim, n participants, k conditions) participant means for one dimension, means ``mu`` (k,)."""
    mu = np.asarray(mu, dtype=np.float64)
    latent = (mu + np.sqrt(rho) * sd * rng.standard_normal((n_sim, n, 1))
              + np.sqrt(1.0 - rho) * sd * rng.standard_normal((n_sim, n, len(mu))))
    items = latent[..., None] + item_sd * rng.standard_normal((n_sim, n, len(mu), n_items))
    return np.clip(np.rint(items), 1, 5).mean(axis=-1)


def detects(x: np.ndarray, a: int, b: int, alpha: float) -> np.ndarray:
    """Per replicate of ``x`` (n_sim, n, k): Friedman significant, and column a > column b
    significant after Holm over all k (k - 1) / 2 pairwise Wilcoxon tests. The Wilcoxon p here is
    the tie-corrected normal approximation (scipy ``method="asymptotic"``, zeros discarded), which
    is vectorised; the analysis itself uses scipy's default (exact/permutation for small n)."""
    k = x.shape[2]
    friedman_p = scipy.stats.friedmanchisquare(*(x[:, :, c] for c in range(k)), axis=1).pvalue
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    ps = np.ones((x.shape[0], len(pairs)))
    for col, (i, j) in enumerate(pairs):
        d = x[:, :, i] - x[:, :, j]
        some = (d != 0).any(axis=1)
        if some.any():
            ps[some, col] = scipy.stats.wilcoxon(d[some], axis=1, method="asymptotic").pvalue
    target = pairs.index((min(a, b), max(a, b)))
    return (friedman_p < alpha) & holm_reject_rows(ps, alpha)[:, target] & (x[:, :, a].mean(axis=1) > x[:, :, b].mean(axis=1))


def power_curve(mu, sizes, n_sim: int, sd: float, rho: float, item_sd: float, n_items: int,
                alpha: float, seed: int, target: float = 0.8) -> dict:
    """Power of LiveBand > SMG at each n in ``sizes`` (ascending), stopping once ``target`` is reached."""
    a, b = CONDITIONS.index("liveband"), CONDITIONS.index("smg")
    rng = np.random.default_rng(seed)
    curve = {}
    for n in sizes:
        x = simulate_sessions(mu, int(n), sd, rho, item_sd, n_items, rng, n_sim)
        curve[int(n)] = float(np.mean(detects(x, a, b, alpha)))
        if curve[int(n)] >= target:
            break
    reached = [n for n, p in curve.items() if p >= target]
    return {"power": curve, "sessions_needed": reached[0] if reached else None}


def power_analysis(sd: float, rho: float, item_sd: float, n_items: int, n_sim: int, sizes, alpha: float,
                   seed: int, target: float = 0.8) -> dict:
    """The SIMULATION for every dimension with the paper's means."""
    mu = paper_means()
    result = {"label": "SIMULATION (assumed rating model, paper Table 4 means)", "sd": sd, "rho": rho,
              "item_sd": item_sd, "n_items": n_items, "n_sim": n_sim, "alpha": alpha, "target_power": target,
              "seed": seed, "dimensions": {}}
    for d, dim in enumerate(DIMENSIONS):
        result["dimensions"][dim] = power_curve(mu[:, d], sizes, n_sim, sd, rho, item_sd, n_items, alpha,
                                                seed + d, target)
        result["dimensions"][dim]["paper_difference"] = float(mu[1, d] - mu[2, d])
    return result
