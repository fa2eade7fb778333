"""Anonymised alerts from a desk to the buyers of a facility, delivered in delayed batches."""
