"""Twilio SMS and WhatsApp: the signed inbound webhook, status callbacks, outbound jobs and
the phone simulator (``intake sms-sim``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks (found through the ``intake.channels`` entry point)."""
    from channels.sms.webhook import sms
    from intake.errors import ConfigError
    from intake.ext import settings_of
    from intake.i18n import BY_CODE
    from intake.machines import serve_machines

    unknown = [code for code, _ in settings_of(app).whatsapp_templates if code not in BY_CODE]
    if unknown:
        raise ConfigError(f"INTAKE_WHATSAPP_TEMPLATES names languages we do not have: "
                          f"{', '.join(unknown)}")

    # Twilio signs its requests (no CSRF token, no cookie, no session), and the webhook
    # counts its hits per sender_tag (intake.limits), not per address.
    serve_machines(app, sms, path_prefix="/twilio/")
