"""Storage: SQLAlchemy models, sessions and migrations. No Telegram, no text."""
