"""Twilio SMS and WhatsApp webhook, outbound texts and the phone simulator."""
