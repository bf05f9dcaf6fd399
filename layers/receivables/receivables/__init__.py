"""Accounts receivable: the domain, its ports and their AWS adapters, shared by every function."""
