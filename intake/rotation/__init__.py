"""Rotating the install's secrets (``intake secrets rotate``): what each rotation re-tags or
re-seals is written out in ops/secrets-rotation.md."""
