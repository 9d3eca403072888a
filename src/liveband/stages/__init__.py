"""Stages package of liveband."""
