"""SQL backends (SQLite, PostgreSQL) over SQLAlchemy Core."""
