"""JSON Lines traces: reading, writing and checking them (docs/trace-format.md)."""
