"""SQLModel tables and API schemas. Importing this package registers every table."""

from models.base import metadata
from models.merchants import Merchant, Store
from models.users import User

__all__ = ["Merchant", "Store", "User", "metadata"]
