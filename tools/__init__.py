"""Operator commands for a deployed stack (run from a shell with AWS credentials)."""
