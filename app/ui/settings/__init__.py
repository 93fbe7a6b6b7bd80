"""Preferences and the settings dialog."""
