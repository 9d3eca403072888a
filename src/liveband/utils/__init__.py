"""Utils package of liveband."""
