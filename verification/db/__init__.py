"""Database engines a host may name in DATABASES["ENGINE"]: `verification.db.sqlite3` (SQLite with a write queue)."""
