"""Remedy plans, what buyers did, and the worker's own verdict on whether harm was remedied."""
