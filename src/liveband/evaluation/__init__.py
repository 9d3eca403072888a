"""Evaluation protocol (paper 5.2-5.3): test list, systems, segment scores."""
