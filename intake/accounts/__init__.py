"""Desks, accounts, memberships with wrapped keys, and the inbound SMS numbers we operate."""
