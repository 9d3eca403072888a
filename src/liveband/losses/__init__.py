"""Losses package of liveband."""
