"""The companion page ``results/index.html`` (stage ``companion``): the claims and tables beside
the paper's values, the figures, and audio examples of every headline system on a fixed,
stratified selection of test examples (``results/companion/``)."""
