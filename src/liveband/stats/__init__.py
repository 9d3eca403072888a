"""Uncertainty and tests for the evaluation: bootstrap intervals, paired tests, Holm.

- ``intervals``: bootstrap CI of a mean over examples; percentile CI from replicates.
- ``set_level``: clip-level bootstrap of a set-level metric (FAD, KAD, ...) against a fixed
  reference: resample examples, concatenate their frames, recompute.
- ``frechet``: the Fréchet distance with a batch path for many bootstrap replicates at once.
- ``paired``: Wilcoxon signed-rank with the matched-pairs rank-biserial effect size, and the
  two-sided bootstrap p-value of a set-level difference.
- ``multiple``: Holm's step-down correction within a family of tests.

Everything here takes arrays and returns numbers; what a column or a system is lives in
``liveband.reports.evidence``.
"""
