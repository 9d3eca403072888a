"""Modules package of liveband."""
