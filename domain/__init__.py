"""Domain model of the Tuco Lines service: aggregates, events, plan rules, errors."""
