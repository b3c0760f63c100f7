"""Store fixtures the bot tests share with the storage tests."""

from tests.storage.conftest import pg_available

__all__ = ["pg_available"]
