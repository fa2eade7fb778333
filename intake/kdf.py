"""Which Argon2id profile this install uses: production, or the fast one tests ask for."""

from __future__ import annotations

from crypto.hierarchy import PRODUCTION, TEST_FAST, Argon2Profile
from intake.settings import Settings


def argon2_profile(settings: Settings) -> Argon2Profile:
    return TEST_FAST if settings.fast_kdf else PRODUCTION
