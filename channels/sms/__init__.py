"""Twilio SMS and WhatsApp: the signed inbound webhook, status callbacks, outbound jobs and
the phone simulator (``intake sms-sim``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks (found through the ``intake.channels`` entry point)."""
    from channels.sms.webhook import sms
    from intake.limits import counts_itself
    from intake.sessions import without_sessions

    app.extensions["intake.csrf"].exempt(sms)  # Twilio signs its requests instead
    # Limits here are counted by hand per sender_tag (intake.limits), not per address.
    counts_itself(app, sms)
    without_sessions(app, "/twilio/")  # no cookie, no one signed in
    app.register_blueprint(sms)
