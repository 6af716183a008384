"""Policy as code: conftest semantics, Gatekeeper, change-aware rules, on the PolicyEngine port."""
