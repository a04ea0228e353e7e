"""Shared infrastructure: settings, database, security, logging, cache."""
