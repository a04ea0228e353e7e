"""Connect: the open-banking domain — consents, bank data, sync steps, snapshots, schedules.

Deliberately empty: activities import single modules without pulling in the API side.
"""
