"""Tenants and what they own; validation; YAML import and export."""
