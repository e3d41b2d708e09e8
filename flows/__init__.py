"""The relationele route: phases, invites, check-ins, signals, digests. No Telegram here."""
