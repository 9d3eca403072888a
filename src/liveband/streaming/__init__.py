"""Streaming package of liveband."""
