"""Temporal payloads and names: standard library (and temporalio) only, safe in workflows."""
