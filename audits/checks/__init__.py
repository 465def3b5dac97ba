"""Check computations (bias, PII leakage, memorisation): plain functions over data, no Django."""
