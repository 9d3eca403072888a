"""Data package of liveband."""
