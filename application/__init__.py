"""Commands, queries and ports of the Tuco Lines service (no HTTP, no SQL)."""
