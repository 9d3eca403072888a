"""Training package of liveband."""
