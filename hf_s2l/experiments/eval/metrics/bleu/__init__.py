"""Local `evaluate` metric module (loaded by path, works offline)."""
