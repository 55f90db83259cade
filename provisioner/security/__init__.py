"""Secrets at rest, API tokens and roles, and the audit log."""
