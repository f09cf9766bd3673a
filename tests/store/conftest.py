from tests.store.backends import backend_url, postgres_schema, store

__all__ = ["backend_url", "postgres_schema", "store"]
