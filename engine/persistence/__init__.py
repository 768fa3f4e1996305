"""Database tables and sessions of the engine (SQLAlchemy 2; SQLite and PostgreSQL)."""
