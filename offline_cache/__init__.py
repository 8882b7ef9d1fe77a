"""Encrypted eligibility cache, check-in journal and outbox (sqlite-utils). Not built yet."""
