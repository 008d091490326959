"""Read models fed from the event log with tracked positions; rebuildable from position 0."""
