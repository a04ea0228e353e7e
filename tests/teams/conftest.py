"""Team tests build on the processing kit: an isolated currency per test, stores, funded
traders and an admin session."""

from tests.processing.conftest import admin_headers

__all__ = ["admin_headers"]
