"""The Worker Voice Intake service: app factory, settings, models and domain services.

Channels (``channels/``) call into this package; it calls into ``crypto/``.
"""

from intake.app import create_app
from intake.settings import Settings

__all__ = ["Settings", "create_app"]
