"""Webhook routing: a forge's delivery in, Jobs (or the reason it was ignored) out. Pure."""
