"""A strict local fake of the Telegram Bot API, with people to act in it."""
