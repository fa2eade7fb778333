"""The ways in and out: web (worker pages), sms (Twilio SMS and WhatsApp), voice (later).

Each channel turns what arrives into one call of an ``intake`` service and turns the answer
into the channel's reply (HTML, TwiML). Business rules never live here.
"""
