"""The paper's reported numbers (transcribed from ../shared/paper/paper-tables.md), shown
beside this project's in every table. Values are (first 10 s segment, drift) or one number.
"""

from __future__ import annotations

PAPER_METRICS = ("FAD VGGish", "FAD CLAP", "BA F1", "COCOLA full", "COCOLA harm", "COCOLA perc")

# Table 1: (first segment, drift); drift None where the paper reports none.
TABLE1 = {
    "Ground truth": ((1.22, 0.02), (0.08, -0.01), (0.60, 0.01), (65.18, 0.36), (66.32, 0.40), (68.67, 0.41)),
    "SMG tau 0": ((2.81, 1.37), (0.30, 0.26), (0.30, -0.05), (59.74, -0.11), (61.14, -0.06), (64.06, 0.03)),
    "SMG tau 1": ((2.67, 1.67), (0.29, 0.28), (0.19, -0.05), (54.37, 1.48), (56.06, 1.42), (58.89, 1.42)),
    "LiveBand tau 0": ((1.55, -0.12), (0.31, -0.04), (0.65, 0.02), (65.22, 0.43), (66.40, 0.41), (68.74, 0.49)),
    "LiveBand tau 0.1": ((1.39, -0.08), (0.31, -0.05), (0.64, 0.03), (65.11, 0.35), (66.30, 0.37), (68.67, 0.39)),
    "LiveBand tau 1": ((1.68, -0.12), (0.32, -0.05), (0.60, -0.01), (64.30, 0.92), (65.38, 1.02), (67.94, 0.95)),
    "LiveBand bidirectional (offline bound)": ((1.30, None), (0.27, None), (0.64, None), (65.63, None),
                                               (66.69, None), (69.08, None)),
    "LiveBand CLAP-conditioned, internal data": ((1.38, -0.04), (0.29, -0.04), (0.63, 0.03), (64.48, 0.31),
                                                 (65.96, 0.33), (68.30, 0.35)),
}

# Table 2: sink ablation at tau 0.1 s, drift only.
TABLE2 = {
    "without sink": (-0.02, -0.06, 0.01, 0.29, 0.27, 0.34),
    "with sink": (-0.02, -0.05, 0.02, 0.31, 0.39, 0.36),
}

# Table 3: gradient-penalty ablation, first segment.
TABLE3 = {
    "Fixed GP, small weight": (1.93, 0.32, 0.58, 64.54, 65.69, 68.08),
    "Fixed GP, tuned weight": (1.74, 0.31, 0.61, 65.19, 66.34, 68.72),
    "AdaGP": (1.82, 0.32, 0.60, 65.09, 66.23, 68.59),
}

# Table 4: listening test, 5-point Likert means.
TABLE4 = {
    "Ground truth": (3.9, 4.3, 4.1, 4.4),
    "Low anchor": (1.4, 1.6, 2.2, 3.4),
    "SMG (tau = 0)": (1.9, 2.2, 2.2, 2.3),
    "LiveBand (tau = 0.1)": (2.6, 3.0, 3.4, 3.1),
}

# Table 5: RTX 3090, bfloat16, batch 1, tau 0.1 s: generator, decoder, mean, median [ms], RTF.
TABLE5 = {
    "Eager": (29.4, 54.1, 83.5, 80.7, 1.1),
    "torch.compile": (25.5, 17.9, 43.6, 29.8, 2.1),
}
