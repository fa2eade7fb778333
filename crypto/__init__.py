"""Sealing, key hierarchy, receipts and pseudonyms: pure functions, no Flask, no database.

This package imports nothing else of the project (enforced by import-linter).
"""
