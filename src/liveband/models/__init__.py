"""Models package of liveband."""
