"""Twilio SMS and WhatsApp: the signed inbound webhook, status callbacks, outbound jobs and
the phone simulator (``intake sms-sim``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks (found through the ``intake.channels`` entry point)."""
    from channels.sms.webhook import sms
    from intake.machines import serve_machines

    # Twilio signs its requests (no CSRF token, no cookie, no session), and the webhook
    # counts its hits per sender_tag (intake.limits), not per address.
    serve_machines(app, sms, path_prefix="/twilio/")
