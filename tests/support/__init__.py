"""Test support: fakes for the ports and database fixtures."""
