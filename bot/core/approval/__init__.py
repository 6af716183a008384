"""Approval gate: rules, predicates, requirements, the result tree."""
