"""Real implementations of the ports, database setup and configuration."""
