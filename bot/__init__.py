"""samenopvoeden: the Telegram transport (handlers, clock, delivery, CLI, sandbox)."""
