"""Stats package of liveband."""
