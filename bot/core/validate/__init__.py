"""Validation of rendered resources against schemas (pure)."""
