"""Metrics package of liveband."""
