"""Frozen domain values. Standard library only; no behaviour that touches the machine."""
