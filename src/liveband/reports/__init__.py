"""Reports package of liveband."""
