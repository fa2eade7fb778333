"""Alerts to buyers: routing, the k gate, batching, e-mail digests and signed webhooks."""
