"""Plain SQL over sqlite3 (embedded, default) or psycopg (PostgreSQL, production)."""
