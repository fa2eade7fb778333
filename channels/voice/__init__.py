"""Twilio voice (IVR) intake: planned, not built yet (DESIGN 5.3)."""
