"""Commit signatures: payloads, trusted signers from the base revision, verdicts."""
